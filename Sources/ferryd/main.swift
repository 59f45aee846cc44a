import ArgumentParser
import FerryWire
import Logging

/// `ferryd`: serve, manage users in config.ini, or show the server key's fingerprint.
struct Ferryd: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ferryd",
        abstract: "Ferry's file transfer daemon.",
        version: FerryVersion.current,
        subcommands: [Serve.self, AddUser.self, DelUser.self, Passwd.self, Fingerprint.self],
        defaultSubcommand: Serve.self
    )
}

extension Logger.Level: @retroactive ExpressibleByArgument {}

Ferryd.main()
