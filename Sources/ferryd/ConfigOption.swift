import ArgumentParser

/// `--config FILE`, which every ferryd command takes: config.ini in the working directory by default.
struct ConfigOption: ParsableArguments {
    @Option(name: .long, help: "The configuration file.")
    var config = "config.ini"
}
