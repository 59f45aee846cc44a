import ArgumentParser
import FerryPosix
import FerryServer
import Foundation
import Logging

extension Ferryd {
    /// `ferryd [--config FILE]`: serve until SIGINT or SIGTERM; SIGHUP reads config.ini again.
    struct Serve: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "serve",
            abstract: "Serve files (the default). SIGHUP reloads config.ini; SIGINT or SIGTERM stops."
        )

        @OptionGroup var options: ConfigOption
        var config: String { options.config }

        @Option(name: .long, help: "Log level: trace, debug, info, notice, warning, error.")
        var logLevel: Logger.Level = .info

        func run() throws {
            Posix.ignoreSIGPIPE()
            Posix.raiseDescriptorLimit()
            Posix.limitAllocatorRetention()
            let level = logLevel
            LoggingSystem.bootstrap { label in
                var handler = EscapingLogHandler(wrapping: StreamLogHandler.standardError(label: label))
                handler.logLevel = level
                return handler
            }
            let file: ConfigFile
            do { file = try ConfigFile(path: config) } catch { throw OneLine.failure("\(error)") }
            if file.users.count == 0 {
                Terminal.write("ferryd: warning: \(config) has no users; add one with: ferryd adduser NAME --config \(config)\n",
                               to: Terminal.standardError)
            }
            let server: Server
            do {
                server = try Server(configFile: file, logger: Logger(label: "ferryd"))
            } catch let error as ConfigFile.Invalid {
                throw OneLine.failure("\(error)")
            } catch {
                throw OneLine.failure("ferryd: \(error)")
            }
            Signals.onHangup { server.reloadConfiguration() }
            Signals.onTermination { _ in
                server.shutdown()
                Signals.exitImmediately(0)
            }
            server.start()
            dispatchMain()
        }
    }
}
