import FerryTransport

extension ClientSession {
    /// Keeps the file data of the transfers from here on to `rate` bytes a second (nil or 0: no limit),
    /// both ways. Every transfer sets it from its options; one bucket serves a run of transfers at the
    /// same rate, so an `mget` keeps to the limit as one long transfer would.
    func limitRate(_ rate: UInt64?) {
        guard let rate, rate > 0 else {
            channel.throttle = nil
            return
        }
        let bucket = rateBucket.flatMap { $0.rate == rate ? $0 : nil } ?? TokenBucket(rate: rate)
        rateBucket = bucket
        channel.throttle = BodyThrottle([bucket])
    }
}
