import ArgumentParser
import FerryPosix

/// How ferryd's commands fail for reasons other than a mistyped command line: one line on standard
/// error (for config.ini, `PATH:LINE: what is wrong`), exit status 1, and no usage text, which is
/// only for mistakes in the arguments.
enum OneLine {
    /// Writes `line` to standard error; throw the result.
    static func failure(_ line: String) -> ExitCode {
        Terminal.write(line + "\n", to: Terminal.standardError)
        return ExitCode.failure
    }
}
