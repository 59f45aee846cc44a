import ArgumentParser
import FerryPosix
import FerryServer
import FerryTLS

extension Ferryd {
    /// `ferryd fingerprint`: the key clients pin, alone on one line, for an administrator to hand out.
    struct Fingerprint: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "fingerprint",
            abstract: "Print the fingerprint of the server's TLS key (made first, as at a first start, if there is none yet)."
        )

        @OptionGroup var options: ConfigOption
        var config: String { options.config }

        func run() throws {
            let file: ConfigFile
            do { file = try ConfigFile(path: config) } catch { throw OneLine.failure("\(error)") }
            guard case .on(let certificate, let privateKey, let createIfMissing) = file.configuration.tls else {
                throw OneLine.failure("ferryd: \(config) has [tls] enabled = false: clients connect in clear text, with no key to check")
            }
            do {
                if createIfMissing { _ = try ServerKeyFiles.createIfMissing(certificate: certificate, privateKey: privateKey) }
                guard let fingerprint = try TLSContext.server(certificate: certificate, privateKey: privateKey).fingerprint else {
                    throw TLSError("certificate \(certificate)", "has no public key")
                }
                print(fingerprint)
            } catch {
                throw OneLine.failure("ferryd: \(error)")
            }
        }
    }
}
