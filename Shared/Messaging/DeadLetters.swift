import AftercareAMQP
import Foundation

/// A service's dead-letter queue, for operators: what is there and why, and replaying it.
public struct DeadLetters: Sendable {
    public struct Entry: Codable, Sendable, Equatable {
        public let eventId: String?
        public let type: String?
        public let reason: String?
        public let routingKey: String?
        public let deadAt: String?
        public let attempts: Int64?
        public let body: String
    }

    let service: String
    let publisher: AMQPPublisher

    public init(service: String, publisher: AMQPPublisher) {
        self.service = service
        self.publisher = publisher
    }

    public var queue: String { EventBus.deadLetterQueue(for: service) }

    public func count() async throws -> Int {
        try await publisher.messageCount(queue: queue)
    }

    /// The first `limit` dead letters, left in place.
    public func list(limit: Int) async throws -> [Entry] {
        try await publisher.peek(queue: queue, limit: limit).map { delivery in
            Entry(
                eventId: delivery.messageID,
                type: delivery.type,
                reason: delivery.headers[EventHeader.deadLetterReason]?.stringValue,
                routingKey: delivery.headers[EventHeader.originalRoutingKey]?.stringValue,
                deadAt: delivery.headers[EventHeader.deadLetteredAt]?.stringValue,
                attempts: delivery.headers[EventHeader.attempt]?.intValue,
                body: String(decoding: delivery.body, as: UTF8.self)
            )
        }
    }

    /// Moves up to `limit` dead letters back to the service's own queue (not the exchange:
    /// only this service failed them) with a fresh attempt count. Returns how many moved.
    public func replay(limit: Int) async throws -> Int {
        let direct = EventBus.directExchange(for: service)
        let main = EventBus.queue(for: service)
        return try await publisher.move(from: queue, to: direct, routingKey: main, limit: limit) { delivery in
            var headers = delivery.headers
            headers[EventHeader.attempt] = nil
            headers[EventHeader.deadLetterReason] = nil
            headers["x-aftercare-replayed-at"] = .string(Date().formatted(.iso8601))
            return AMQPOutgoingMessage(
                exchange: direct,
                routingKey: main,
                body: delivery.body,
                messageID: delivery.messageID ?? UUID().uuidString.lowercased(),
                type: delivery.type,
                correlationID: delivery.correlationID,
                appID: delivery.appID,
                headers: headers
            )
        }
    }
}
