/// What went wrong talking to the broker. Connection-level errors mean the connection is
/// gone and will be rebuilt; the caller sees the error and retries.
public enum AMQPError: Error, CustomStringConvertible, Sendable {
    case notConnected
    case connectFailed(String)
    case library(operation: String, code: Int32, message: String)
    case connectionClosed(code: UInt16, text: String)
    case channelClosed(code: UInt16, text: String)
    case publishNacked
    case confirmTimeout
    case consumerCancelled
    case shutDown

    public var description: String {
        switch self {
        case .notConnected: "not connected to the broker"
        case .connectFailed(let reason): "could not connect to the broker: \(reason)"
        case .library(let operation, let code, let message): "\(operation) failed: \(message) (\(code))"
        case .connectionClosed(let code, let text): "the broker closed the connection: \(code) \(text)"
        case .channelClosed(let code, let text): "the broker closed the channel: \(code) \(text)"
        case .publishNacked: "the broker refused the message (basic.nack)"
        case .confirmTimeout: "the broker did not confirm in time"
        case .consumerCancelled: "the broker cancelled the consumer (was the queue deleted?)"
        case .shutDown: "the AMQP session is shut down"
        }
    }
}
