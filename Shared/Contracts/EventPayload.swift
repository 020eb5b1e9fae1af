import Foundation

/// The payload of one kind of event. Its type string is the routing key,
/// `<service>.<entity>.<verb-past-tense>`; producers and consumers share the Swift type, so
/// the compiler checks both sides.
public protocol EventPayload: Codable, Sendable {
    static var eventType: String { get }
    /// Bumped when the payload changes incompatibly; consumers see it in the envelope.
    static var schemaVersion: Int { get }
    /// Checks beyond JSON types (non-empty ids, sane amounts). A payload that fails is a
    /// poison message: it goes to the dead-letter queue with this reason.
    func validate() throws(EventValidationError)
}

extension EventPayload {
    public static var schemaVersion: Int { 1 }
    public func validate() throws(EventValidationError) {}
}

public struct EventValidationError: Error, CustomStringConvertible, Sendable, Equatable {
    public let reason: String
    public init(_ reason: String) { self.reason = reason }
    public var description: String { reason }
}
