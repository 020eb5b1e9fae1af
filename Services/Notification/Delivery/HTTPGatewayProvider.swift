import AftercareContracts
import AftercareDeadline
import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1

/// A provider reached over HTTP: `POST {baseURL}/messages` with a JSON body and the API key
/// as a bearer token. The delivery id goes as `Idempotency-Key` and `reference`, so a
/// provider that deduplicates never sends one delivery twice even when we retry after a
/// lost answer. Answers `2xx {"messageId": …}`.
///
/// The SMS gateway gets `{to, text, reference}`; the official-account API gets
/// `{recipientId, templateKey, text, reference}` (the brand's official-account adapter maps
/// Aftercare ids to its followers).
struct HTTPGatewayProvider: MessageProvider {
    let name: String
    let endpoint: ProviderEndpoint
    let timeout: Duration
    let client: HTTPClient

    private struct SMSBody: Encodable { let to: String, text: String, reference: String }
    private struct TemplateBody: Encodable { let recipientId: String, templateKey: String, text: String, reference: String }
    private struct Answer: Decodable { let messageId: String? }

    func send(_ message: OutgoingMessage) async -> ProviderOutcome {
        let reference = message.deliveryId.uuidString.lowercased()
        let base = endpoint.baseURL.hasSuffix("/") ? String(endpoint.baseURL.dropLast()) : endpoint.baseURL
        var request = HTTPClientRequest(url: base + "/messages")
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        request.headers.add(name: "Idempotency-Key", value: reference)
        if let key = endpoint.apiKey { request.headers.add(name: "Authorization", value: "Bearer \(key)") }
        do {
            let body =
                switch message.channel {
                case .sms: try JSONEncoder().encode(SMSBody(to: message.address, text: message.text, reference: reference))
                default:
                    try JSONEncoder().encode(
                        TemplateBody(recipientId: message.address, templateKey: message.templateKey, text: message.text, reference: reference)
                    )
                }
            request.body = .bytes(ByteBuffer(bytes: body))
            // The deadline covers the answer's body too: AsyncHTTPClient's own ends with the
            // headers, and a gateway that sends them and then stalls would hold the send.
            let (status, answer) = try await withDeadline(timeout, "\(name) call") { [client, request, timeout] _ in
                let response = try await client.execute(request, timeout: TimeAmount(timeout))
                return (Int(response.status.code), try await response.body.collect(upTo: 64 * 1024))
            }
            let messageId = try? JSONDecoder().decode(Answer.self, from: Data(buffer: answer)).messageId
            return .classify(statusCode: status, messageId: messageId, body: String(buffer: answer))
        } catch {
            // Timeouts, refused connections and resets: the provider may be back shortly.
            return .retryable(statusCode: nil, detail: "\(error)".prefix(200).description)
        }
    }
}
