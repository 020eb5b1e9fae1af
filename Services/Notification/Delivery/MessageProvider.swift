import AftercareContracts
import AftercareRuntime
import Foundation
import Logging

/// One message as a provider sees it.
struct OutgoingMessage: Sendable, Equatable {
    let deliveryId: UUID
    let channel: MessageChannel
    /// The phone (SMS) or the recipient's Aftercare id (official account, in-app).
    let address: String
    let text: String
    let templateKey: String
}

/// What a provider said. Timeouts, connection failures and 5xx are worth retrying (and
/// failing over); a 4xx is the provider refusing this message, which no retry will change.
enum ProviderOutcome: Sendable, Equatable {
    case accepted(messageId: String?)
    case retryable(statusCode: Int?, detail: String)
    case rejected(statusCode: Int, detail: String)

    /// What a provider answered is kept (attempt rows, failure events) with anything shaped
    /// like a phone number masked: gateways often echo the number they were given.
    static func classify(statusCode: Int, messageId: String?, body: String) -> ProviderOutcome {
        let body = LogRedaction.redact(String(body.prefix(200)))
        return switch statusCode {
        case 200..<300: .accepted(messageId: messageId)
        case 408, 429: .retryable(statusCode: statusCode, detail: "provider busy: \(body)")
        case 400..<500: .rejected(statusCode: statusCode, detail: body)
        default: .retryable(statusCode: statusCode, detail: "provider error: \(body)")
        }
    }
}

/// An SMS gateway, an official-account API, or a stand-in for one.
protocol MessageProvider: Sendable {
    /// Recorded with every attempt, e.g. `sms-primary`.
    var name: String { get }
    func send(_ message: OutgoingMessage) async -> ProviderOutcome
}

/// The local default: records what would be sent (the delivery row keeps the text), so the
/// suite runs with no outside account. Logs the recipient id, never the phone.
struct RecordingProvider: MessageProvider {
    let name: String
    let logger: Logger

    func send(_ message: OutgoingMessage) async -> ProviderOutcome {
        logger.info(
            "message recorded, not sent",
            metadata: [
                "delivery_id": "\(message.deliveryId.lowercasedString)", "channel": "\(message.channel.rawValue)",
                "template": "\(message.templateKey)",
            ]
        )
        return .accepted(messageId: "recorded-\(message.deliveryId.uuidString.lowercased())")
    }
}

/// Each channel's providers in the order they are tried: the primary, then its failover.
struct ChannelProviders: Sendable {
    let providers: [MessageChannel: [any MessageProvider]]

    func chain(for channel: MessageChannel) -> [any MessageProvider] { providers[channel] ?? [] }
}

/// The in-app inbox: the delivery row is the message, so handing it over cannot fail.
struct InboxProvider: MessageProvider {
    let name = "inbox"

    func send(_ message: OutgoingMessage) async -> ProviderOutcome { .accepted(messageId: nil) }
}
