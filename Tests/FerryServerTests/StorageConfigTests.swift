import FerryS3
import FerryServer
import Testing

/// The `[storage]` section of config.ini.
@Suite("StorageConfig")
struct StorageConfigTests {
    private static let keys = """
        salt = b+hfK3tCbevQpb4NF9/Zng==
        stored_key = UXqrpJI04ZzE3sT/VbHBEtZ51XWdrQVulgOXaRhVXRc=
        server_key = VHeE2VltsmO4iZQ7lRDk4pVi76JzHiLB3K5L+TNb/7s=
        """

    @Test("no section, or backend = local, is the local directory")
    func local() throws {
        #expect(try ConfigFile(path: "/etc/ferry/config.ini", text: "[server]\nroot = share\n").configuration.storage == .local)
        #expect(try ConfigFile(path: "/etc/ferry/config.ini", text: "[storage]\nbackend = local\n").configuration.storage == .local)
    }

    @Test("backend = s3 reads every key; a user's root is a prefix, kept as written")
    func s3() throws {
        let file = try ConfigFile(path: "/etc/ferry/config.ini", text: """
            [storage]
            backend = s3
            endpoint = http://127.0.0.1:8333/
            bucket = ferry
            region = eu-west-1
            prefix = /share/
            access_key_id = AK
            secret_access_key = SK

            [user.alice]
            \(Self.keys)
            root = alice/
            """)
        #expect(file.configuration.storage == .s3(S3Settings(endpoint: "http://127.0.0.1:8333", bucket: "ferry", region: "eu-west-1",
                                                              prefix: "share/", accessKeyID: "AK", secretAccessKey: "SK")))
        #expect(file.users["alice"]?.root == "alice")
    }

    @Test("a missing key or a bad endpoint is one line at the section")
    func refusals() throws {
        let cases = [
            ("[storage]\nbackend = s3\nbucket = b\naccess_key_id = a\nsecret_access_key = s\n", "needs endpoint"),
            ("[storage]\nbackend = s3\nendpoint = 127.0.0.1:8333\nbucket = b\n", "must start with http:// or https://"),
            ("[storage]\nbackend = s3\nendpoint = http://x\naccess_key_id = a\nsecret_access_key = s\n", "needs bucket"),
            ("[storage]\nbackend = ftp\n", "must be local or s3"),
            ("[storage]\nbackend = s3\nbukket = b\n", "bukket"),
        ]
        for (text, reason) in cases {
            #expect {
                _ = try ConfigFile(path: "config.ini", text: text)
            } throws: { error in
                "\(error)".hasPrefix("config.ini:") && "\(error)".contains(reason)
            }
        }
    }
}
