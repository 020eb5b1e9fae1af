import AftercareTestSupport
import AsyncHTTPClient
import Foundation
import Testing

@testable import NotificationService

/// A gateway that answers its status at once and then stalls the body is given up on at the
/// provider's deadline: the send does not wait for the rest of the answer.
@Suite("A gateway that stalls its answer", .timeLimit(.minutes(1)))
struct StalledGatewayTests {
    @Test("a status at once and then a stalled body end as retryable at the provider's deadline")
    func stalledBody() async throws {
        try await FakeGateway().running { gateway in
            gateway.stallBodies(for: .seconds(20))
            let provider = HTTPGatewayProvider(
                name: "sms-primary",
                endpoint: ProviderEndpoint(baseURL: gateway.baseURL, apiKey: nil),
                timeout: .seconds(3),
                client: .shared
            )
            let message = OutgoingMessage(deliveryId: UUID(), channel: .sms, address: "+8613800000000", text: "Hello", templateKey: "welcome")
            let started = ContinuousClock.now
            let outcome = await provider.send(message)
            let took = ContinuousClock.now - started
            guard case .retryable = outcome else {
                Issue.record("a stalled answer ended as \(outcome)")
                return
            }
            // Well before the stalled body would have ended.
            #expect(took < .seconds(15), "the send took \(took)")
            #expect(gateway.received.count == 1)
        }
    }
}
