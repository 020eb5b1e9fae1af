import Foundation

/// A header or argument value, in the few AMQP field kinds Aftercare uses.
public enum AMQPFieldValue: Sendable, Equatable {
    case string(String)
    case int(Int64)
    case bool(Bool)

    public var stringValue: String? {
        switch self {
        case .string(let value): value
        case .int(let value): String(value)
        case .bool(let value): String(value)
        }
    }

    public var intValue: Int64? {
        switch self {
        case .int(let value): value
        case .string(let value): Int64(value)
        case .bool: nil
        }
    }
}

/// A message to publish: always persistent, always JSON in Aftercare.
public struct AMQPOutgoingMessage: Sendable {
    public var exchange: String
    public var routingKey: String
    public var body: [UInt8]
    public var messageID: String
    public var type: String?
    public var correlationID: String?
    public var appID: String?
    public var timestamp: Date?
    public var headers: [String: AMQPFieldValue]

    public init(
        exchange: String,
        routingKey: String,
        body: [UInt8],
        messageID: String,
        type: String? = nil,
        correlationID: String? = nil,
        appID: String? = nil,
        timestamp: Date? = nil,
        headers: [String: AMQPFieldValue] = [:]
    ) {
        self.exchange = exchange
        self.routingKey = routingKey
        self.body = body
        self.messageID = messageID
        self.type = type
        self.correlationID = correlationID
        self.appID = appID
        self.timestamp = timestamp
        self.headers = headers
    }
}

/// A message received from a queue, copied out of the C library's buffers.
public struct AMQPDelivery: Sendable {
    public var deliveryTag: UInt64
    /// Which connection delivered it: a tag is only valid on the connection that sent it.
    public var connectionGeneration: Int
    public var exchange: String
    public var routingKey: String
    public var redelivered: Bool
    public var body: [UInt8]
    public var messageID: String?
    public var type: String?
    public var correlationID: String?
    public var appID: String?
    public var headers: [String: AMQPFieldValue]

    public init(
        deliveryTag: UInt64,
        connectionGeneration: Int,
        exchange: String,
        routingKey: String,
        redelivered: Bool,
        body: [UInt8],
        messageID: String?,
        type: String?,
        correlationID: String?,
        appID: String?,
        headers: [String: AMQPFieldValue]
    ) {
        self.deliveryTag = deliveryTag
        self.connectionGeneration = connectionGeneration
        self.exchange = exchange
        self.routingKey = routingKey
        self.redelivered = redelivered
        self.body = body
        self.messageID = messageID
        self.type = type
        self.correlationID = correlationID
        self.appID = appID
        self.headers = headers
    }
}

/// What a publish came to once the broker answered.
public enum AMQPPublishOutcome: Sendable, Equatable {
    /// Stored by the broker in at least one queue.
    case confirmed
    /// Confirmed, but no queue was bound for its routing key (basic.return).
    case unroutable
}
