import AftercareContracts
import AftercareMessaging
import AftercareRuntime
import AftercareTestSupport
import Foundation
import Hummingbird
import HummingbirdTesting
import PostgresNIO
import Testing

@testable import DispatchService

/// The visit as the crew works it, on a real database: the member's phone masked until the
/// order is theirs, on the way and started, the 16 mite-removal steps in order with their
/// notes and photos, completion only when every required step is done (publishing
/// `dispatch.order.completed` with both technicians), and nobody home.
@Suite("The visit", .timeLimit(.minutes(4)))
struct VisitTests {
    @Test("the crew works the checklist in order and completes; the completion names both technicians")
    func checklistAndCompletion() async throws {
        try await DispatchFixture.with(technicians: 2) { fixture in
            try await fixture.app().test(.live) { client in
                try await fixture.seed(client)
                let t = fixture.technicians
                let (_, made) = try await fixture.book(client)
                let orderId = try #require(made?.orderId)
                let first = try await fixture.token(.technician, t[0])
                let offered = try await fixture.order(client, orderId, as: first)
                #expect(offered.member.phone == "+86*******1234" && offered.member.name == "Li Wei")
                #expect(offered.checklist.count == 16)
                #expect(try await fixture.act(client, "en-route", orderId, as: t[0]) == .conflict)
                #expect(try await fixture.act(client, "accept", orderId, as: t[0]) == .ok)
                #expect(try await fixture.act(client, "accept", orderId, as: t[1]) == .ok)
                let dispatched = try await fixture.order(client, orderId, as: first)
                #expect(dispatched.status == .dispatched && dispatched.member.phone == "+8613800001234")

                #expect(try await fixture.act(client, "en-route", orderId, as: t[0]) == .ok)
                func mark(_ step: Int, by technician: String, _ body: String = "{}") async throws -> (HTTPResponse.Status, String?) {
                    let (status, data) = try await fixture.send(
                        client,
                        .put,
                        "/api/v1/orders/\(orderId)/steps/\(step)",
                        token: try await fixture.token(.technician, technician),
                        body: body
                    )
                    let field = status == .ok ? nil : (try? JSONDecoder().decode(ProblemBody.self, from: data))?.errors?.first?.field
                    return (status, field)
                }
                #expect(try await mark(1, by: t[0]).0 == .conflict)
                #expect(try await fixture.act(client, "start", orderId, as: t[1]) == .ok)
                #expect(try await mark(2, by: t[0]) == (.unprocessableContent, "step"))
                #expect(try await mark(1, by: t[0]).0 == .ok)
                #expect(try await mark(1, by: t[1]) == (.unprocessableContent, "step"))
                #expect(try await mark(2, by: t[1]) == (.unprocessableContent, "photo"))
                #expect(try await mark(2, by: t[1], #"{"photo": "photos/before.jpg"}"#).0 == .ok)
                #expect(try await mark(3, by: t[0]) == (.unprocessableContent, "note"))
                let steps = ServiceType.miteRemoval.steps
                for step in 3...15 {
                    var body = [String]()
                    if steps[step - 1].needsNote { body.append(#""note": "checked""#) }
                    if steps[step - 1].needsPhoto { body.append(#""photo": "photos/\#(step).jpg""#) }
                    #expect(try await mark(step, by: t[step % 2], "{\(body.joined(separator: ", "))}").0 == .ok, "step \(step)")
                    if step == 14 {
                        let early = try await fixture.send(client, .post, "/api/v1/orders/\(orderId)/complete", token: first)
                        let problem = try JSONDecoder().decode(ProblemBody.self, from: early.1)
                        #expect(early.0 == .unprocessableContent && problem.errors?.first?.field == "checklist")
                    }
                }
                // Step 16 is optional: the visit completes without it.
                #expect(try await fixture.act(client, "complete", orderId, as: t[0]) == .ok)
                let done = try await fixture.order(client, orderId, as: try await fixture.token(.member, fixture.member))
                #expect(done.status == .completed)
                #expect(done.checklist.filter { $0.doneBy != nil }.count == 15)
                #expect(done.checklist[1].photo == "photos/before.jpg" && done.checklist[1].doneBy == t[1])
                let completed = try await fixture.bed.database.query(
                    "SELECT envelope FROM outbox WHERE event_type = \(ServiceOrderCompleted.eventType)",
                    logger: TestEnvironment.logger
                ).collect()
                #expect(completed.count == 1)
                let envelope = try #require(completed.first).decode(String.self)
                let json = try JSONSerialization.jsonObject(with: Data(envelope.utf8)) as? [String: Any]
                let payload = json?["payload"] as? [String: Any]
                #expect(payload?["technicianIds"] as? [String] == [t[0], t[1]])
                #expect(payload?["bookingId"] as? String == made?.id.lowercasedString)
                // Feedback reads it as this contract (ReviewTests: one request rating each technician).
                let contract = try EventCoding.decoder().decode(EventEnvelope<ServiceOrderCompleted>.self, from: Data(envelope.utf8)).payload
                #expect(contract.technicianIds == [t[0], t[1]] && contract.orderId == orderId.lowercasedString)
                try contract.validate()
                #expect(try await fixture.published(ServiceStepDone.eventType) == 15)
                let finished = try await fixture.order(client, orderId, as: first)
                #expect(finished.member.phone == "+86*******1234")
                #expect(try await fixture.act(client, "complete", orderId, as: t[0]) == .conflict)
            }
        }
    }

    @Test("nobody home: the visit ends as no access, and the store books a follow-up visit")
    func noAccess() async throws {
        try await DispatchFixture.with(technicians: 2) { fixture in
            try await fixture.app().test(.live) { client in
                try await fixture.seed(client)
                let t = fixture.technicians
                let (_, made) = try await fixture.book(client, coupon: nil)
                let orderId = try #require(made?.orderId)
                for technician in t { #expect(try await fixture.act(client, "accept", orderId, as: technician) == .ok) }
                #expect(try await fixture.act(client, "en-route", orderId, as: t[1]) == .ok)
                #expect(try await fixture.act(client, "no-access", orderId, as: t[1], body: #"{"reason": "Nobody opened; called twice"}"#) == .ok)
                let order = try await fixture.order(client, orderId, as: try await fixture.token(.member, fixture.member))
                #expect(order.status == .noAccess && order.reason == "Nobody opened; called twice")
                #expect(try await fixture.published(ServiceOrderNoAccess.eventType) == 1)
                #expect(try await fixture.act(client, "start", orderId, as: t[1]) == .conflict)

                // The store books the follow-up visit; it names the visit it follows.
                let manager = try await fixture.token(.storeManager, fixture.manager)
                func followUp(_ of: String) -> String {
                    #"{"memberId": "\#(fixture.member)", "serviceType": "mite_removal", "date": "2030-03-20", "window": "09:00-12:00", "address": "x", "followUpOf": "\#(of)"}"#
                }
                let (status, data) = try await fixture.send(client, .post, "/api/v1/bookings", token: manager, body: followUp("\(orderId)"))
                #expect(status == .created)
                #expect(try JSONDecoder.iso.decode(BookingView.self, from: data).followUpOf == orderId)
                let unrelated = try await fixture.send(client, .post, "/api/v1/bookings", token: manager, body: followUp("\(UUID())"))
                #expect(unrelated.0 == .unprocessableContent)
                #expect(try JSONDecoder().decode(ProblemBody.self, from: unrelated.1).errors?.first?.field == "followUpOf")
            }
        }
    }
}
