import Foundation

/// `docker/rabbitmq/subscriptions`: the event types each service's broker user may bind
/// (its topic read permission). A service whose subscriptions differ from it cannot bind what
/// it consumes, or may bind what it does not; each service's tests compare the two.
public enum BrokerSubscriptions {
    static let file = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("docker/rabbitmq/subscriptions")

    /// The event types listed for `service`, sorted.
    public static func listed(for service: String) throws -> [String] {
        try all().filter { $0.service == service }.map(\.eventType).sorted()
    }

    /// Every line: who consumes what.
    public static func all() throws -> [(service: String, eventType: String)] {
        try String(contentsOf: file, encoding: .utf8).split(separator: "\n").compactMap { line in
            let words = line.split(separator: " ")
            guard words.count == 2, !line.hasPrefix("#") else { return nil }
            return (String(words[0]), String(words[1]))
        }
    }
}
