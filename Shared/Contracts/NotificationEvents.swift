import Foundation

/// The channels a message can go out on.
public enum MessageChannel: String, Codable, Sendable, CaseIterable {
    case sms
    /// Template messages through the brand's official account.
    case officialAccount = "official_account"
    /// The inbox stored by the notification service itself.
    case inApp = "in_app"
}

/// A message left the notification service: a provider accepted it (or it was put in the
/// in-app inbox).
public struct DeliverySent: EventPayload, Equatable {
    public static let eventType = "notification.delivery.sent"
    public let deliveryId: UUID
    /// The event the message was about.
    public let eventId: UUID
    public let eventType: String
    public let recipientId: String
    public let channel: MessageChannel
    public let provider: String
    public let attempts: Int
    public let sentAt: Date

    public init(
        deliveryId: UUID,
        eventId: UUID,
        eventType: String,
        recipientId: String,
        channel: MessageChannel,
        provider: String,
        attempts: Int,
        sentAt: Date
    ) {
        self.deliveryId = deliveryId
        self.eventId = eventId
        self.eventType = eventType
        self.recipientId = recipientId
        self.channel = channel
        self.provider = provider
        self.attempts = attempts
        self.sentAt = sentAt
    }
}

/// A message could not be delivered: a provider refused it, every retry and failover was
/// used up, or the provider's receipt reported it undeliverable.
public struct DeliveryFailed: EventPayload, Equatable {
    public static let eventType = "notification.delivery.failed"
    public let deliveryId: UUID
    public let eventId: UUID
    public let eventType: String
    public let recipientId: String
    public let channel: MessageChannel
    public let reason: String
    public let attempts: Int
    public let failedAt: Date

    public init(
        deliveryId: UUID,
        eventId: UUID,
        eventType: String,
        recipientId: String,
        channel: MessageChannel,
        reason: String,
        attempts: Int,
        failedAt: Date
    ) {
        self.deliveryId = deliveryId
        self.eventId = eventId
        self.eventType = eventType
        self.recipientId = recipientId
        self.channel = channel
        self.reason = reason
        self.attempts = attempts
        self.failedAt = failedAt
    }
}
