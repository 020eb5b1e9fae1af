import Foundation
import Synchronization

/// Business time: what "due" means for deadlines. Production reads the system clock; tests
/// set the time, so a five-minute escalation needs no five-minute wait.
public protocol BusinessClock: Sendable {
    func now() -> Date
}

public struct SystemBusinessClock: BusinessClock {
    public init() {}
    public func now() -> Date { Date() }
}

/// A clock that moves only when told to.
public final class ManualBusinessClock: BusinessClock {
    private let current: Mutex<Date>

    public init(_ start: Date = Date()) {
        current = Mutex(start)
    }

    public func now() -> Date { current.withLock { $0 } }

    public func advance(by interval: TimeInterval) {
        current.withLock { $0 = $0.addingTimeInterval(interval) }
    }
}
