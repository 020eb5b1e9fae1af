import Foundation

/// `docker/rabbitmq/subscriptions`: the event types each service's broker user may bind
/// (its topic read permission). A service whose subscriptions differ from it cannot bind what
/// it consumes, or may bind what it does not; each service's tests compare the two.
public enum BrokerSubscriptions {
    static let file = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("docker/rabbitmq/subscriptions")

    /// The event types listed for `service`, sorted.
    public static func listed(for service: String) throws -> [String] {
        var types: [String] = []
        for line in try String(contentsOf: file, encoding: .utf8).split(separator: "\n") where !line.hasPrefix("#") {
            let words = line.split(separator: " ")
            if words.count == 2, words[0] == service { types.append(String(words[1])) }
        }
        return types.sorted()
    }
}
