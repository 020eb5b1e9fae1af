import Synchronization

/// A flag that is set once and read from anywhere (closures that outlive a test's scope
/// cannot capture an `Atomic` itself).
public final class OnceFlag: Sendable {
    private let flag = Atomic<Bool>(false)

    public init() {}

    public var isSet: Bool { flag.load(ordering: .relaxed) }

    /// Sets the flag; true only for the first caller.
    @discardableResult
    public func set() -> Bool { !flag.exchange(true, ordering: .relaxed) }
}
