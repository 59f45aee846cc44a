import FerryPosix

/// Starts the disk write of a body while it is still arriving, so that the fsync before the rename
/// finds little left to do: the transfer then takes about as long as the slower of network and disk,
/// not the two added up. Written bytes are gathered into runs of ``step``; writeback of each run is
/// started (sync_file_range WRITE) as it fills, and the run before it is waited for first, which keeps
/// the dirty page cache of one transfer bounded (about two steps) instead of letting a large body fill
/// memory. Writes need not be contiguous: a resumed transfer writes only the chunks it lacks.
public struct Writeback {
    public static let step: Int64 = 8 << 20
    let file: Descriptor
    private var run: (start: Int64, end: Int64)?
    private var inFlight: (start: Int64, end: Int64)?
    private var failed = false

    public init(file: Descriptor) { self.file = file }

    /// `count` bytes were written at `offset`.
    public mutating func wrote(offset: Int64, count: Int) {
        guard !failed, count > 0 else { return }
        if let current = run, current.end == offset {
            run = (current.start, offset + Int64(count))
        } else {
            start()
            run = (offset, offset + Int64(count))
        }
        if let current = run, current.end - current.start >= Self.step { start() }
    }

    private mutating func start() {
        guard let current = run else { return }
        run = nil
        do {
            if let previous = inFlight {
                try File.waitForWriteback(file, offset: previous.start, count: previous.end - previous.start)
            }
            try File.startWriteback(file, offset: current.start, count: current.end - current.start)
            inFlight = current
        } catch {
            failed = true // not supported here (some file systems): the final fsync does it all
        }
    }
}
