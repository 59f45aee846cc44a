import FerryPosix

/// A connected byte stream that a ``MessageChannel`` speaks over: a plain ``Socket`` (protocol 1), or
/// TLS over one (protocol 2). Every wait is bounded by the timeout given, as on a socket.
public protocol ByteStream: AnyObject {
    /// The connection underneath: its address, and a way to wake or end it from another thread.
    var socket: Socket { get }
    /// Reads what is available, waiting up to `timeout` (nil: forever) for the first byte; 0 at the end.
    func read(into buffer: UnsafeMutableRawBufferPointer, timeout: Duration?) throws -> Int
    /// Writes every byte, waiting up to `timeout` each time no progress can be made, and adds to
    /// `written` the bytes handed to the connection, also when it throws part way.
    func write(_ buffer: UnsafeRawBufferPointer, timeout: Duration?, written: inout Int) throws
    /// Sends up to `count` bytes of `file` from `offset`, advancing it; returns the bytes sent, 0 when
    /// the file ended early.
    func sendFile(_ file: Descriptor, offset: inout Int64, count: Int, timeout: Duration?) throws -> Int
    /// Ends the stream (politely where the protocol has a way) and closes the connection.
    func close()
}

extension ByteStream {
    /// Writes every byte, waiting up to `timeout` each time no progress can be made.
    public func write(_ buffer: UnsafeRawBufferPointer, timeout: Duration?) throws {
        var written = 0
        try write(buffer, timeout: timeout, written: &written)
    }
}

extension Socket: ByteStream {
    public var socket: Socket { self }
}
