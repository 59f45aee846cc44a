/// Connections that have not logged in yet, by address, oldest first: what OpenSSH bounds with
/// MaxStartups and PerSourceMaxStartups.
///
/// Logging in takes a client milliseconds, so a connection that holds a pre-login slot for long is
/// more likely an attacker's than a user's. Each address may hold `limitPerAddress` slots; beyond that
/// it is refused. When all `limit` slots are taken, a newcomer still gets in if some other address
/// holds more slots than the newcomer does: that address's oldest pending connection is evicted. So
/// a few addresses that hold every slot cannot lock anyone else out; they only push out each other.
struct PendingLogins<Connection: AnyObject> {
    /// Pending connections at most; a reload may change it (connections already pending stay).
    var limit: Int
    /// Pending connections from one address at most; a reload may change it too.
    var limitPerAddress: Int
    private var byAddress: [String: [Connection]] = [:]
    /// Connections pending in all.
    private(set) var count = 0

    init(limit: Int, limitPerAddress: Int) {
        self.limit = limit
        self.limitPerAddress = limitPerAddress
    }

    /// What became of a connection that asked for a slot.
    enum Admission {
        case admitted
        /// Admitted in place of `evicted`, which the caller must close; it no longer counts here.
        case admittedEvicting(Connection)
        /// Not admitted: one sentence saying why.
        case refused(String)
    }

    /// Takes a slot for `connection` from `address`, if the limits allow it.
    mutating func admit(_ connection: Connection, from address: String) -> Admission {
        let own = byAddress[address]?.count ?? 0
        guard own < limitPerAddress else {
            return .refused("too many connections from \(address) waiting to log in")
        }
        var evicted: Connection?
        if count >= limit {
            guard let (crowded, held) = byAddress.max(by: { $0.value.count < $1.value.count }),
                  held.count > own + 1 else {
                return .refused("too many connections waiting to log in")
            }
            evicted = held[0]
            _ = remove(held[0], from: crowded)
        }
        byAddress[address, default: []].append(connection)
        count += 1
        return evicted.map(Admission.admittedEvicting) ?? .admitted
    }

    /// Gives up `connection`'s slot (it logged in, or closed). False when it held none.
    @discardableResult
    mutating func remove(_ connection: Connection, from address: String) -> Bool {
        guard var held = byAddress[address], let index = held.firstIndex(where: { $0 === connection }) else {
            return false
        }
        held.remove(at: index)
        byAddress[address] = held.isEmpty ? nil : held
        count -= 1
        return true
    }

    /// The pending connections from `address`, oldest first.
    func connections(from address: String) -> [Connection] { byAddress[address] ?? [] }
}
