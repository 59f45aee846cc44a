/// The version of ferryd and ferry, shown in `--version` and the server's hello.
public enum FerryVersion {
    public static let current = "0.1.0"
}
