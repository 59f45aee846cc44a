import ArgumentParser

extension Ferryd {
    /// `ferryd deluser NAME`: remove a user from config.ini.
    struct DelUser: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "deluser",
            abstract: "Remove a user.",
            discussion: "A running ferryd refuses the user from the next login on; sessions already logged in go on until they end."
        )

        @Argument(help: "The user name.")
        var name: String

        @OptionGroup var options: ConfigOption
        var config: String { options.config }

        func run() throws {
            let editor = try ConfigEditor(path: config)
            _ = try editor.existingUser(name)
            try editor.remove(name)
            print("removed user \(name) from \(config); a running ferryd refuses it from the next login")
        }
    }
}
