import AftercareContracts
import AftercareRuntime
import AftercareTestSupport
import Foundation
import Hummingbird
import HummingbirdTesting
import Synchronization
import Testing

@testable import DispatchService

/// A crew of two offered seat by seat on a real database and broker: accepting, declining,
/// offers lapsing on durable timers (with two replicas, and across a restart), nobody left
/// (the store manager's alert and a hand assignment), and a technician who leaves.
@Suite("Crew offers", .timeLimit(.minutes(4)))
struct CrewOfferTests {
    @Test("both seats accept → dispatched; one declines → only that seat is offered again; a second accept is refused")
    func acceptAndDecline() async throws {
        try await DispatchFixture.with(technicians: 3) { fixture in
            try await fixture.app().test(.live) { client in
                try await fixture.seed(client)
                let t = fixture.technicians
                let (_, made) = try await fixture.book(client)
                let orderId = try #require(made?.orderId)
                #expect(try await fixture.seats(orderId).mapValues(\.0) == [1: t[0], 2: t[1]])
                #expect(try await fixture.published(OfferMade.eventType) == 2)

                #expect(try await fixture.act(client, "accept", orderId, as: t[0]) == .ok)
                #expect(try await fixture.act(client, "accept", orderId, as: t[0]) == .conflict)
                #expect(try await fixture.act(client, "decline", orderId, as: t[1], body: #"{"reason": "I am at another job"}"#) == .noContent)
                let seats = try await fixture.seats(orderId)
                #expect(seats[1]! == (t[0], "accepted") && seats[2]! == (t[2], "offered"))
                // The one who declined is not asked again, and cannot take the seat back.
                #expect(try await fixture.act(client, "accept", orderId, as: t[1]) == .conflict)
                #expect(try await fixture.act(client, "accept", orderId, as: t[2]) == .ok)
                let order = try await fixture.order(client, orderId, as: try await fixture.token(.member, fixture.member))
                #expect(order.status == .dispatched && Set(order.seats.map(\.technicianId)) == [t[0], t[2]])
                #expect(try await fixture.published(ServiceOrderDispatched.eventType) == 1)
                #expect(try await fixture.published(OfferDeclined.eventType) == 1)
                // Each change is one timeline entry, with who and why.
                let timeline = order.timeline ?? []
                let declined = timeline.filter { $0.kind == OfferDeclined.eventType }
                #expect(declined.map(\.detail) == ["seat 2: \(t[1]) (I am at another job)"] && declined.first?.actor == t[1])
                #expect(timeline.filter { $0.kind == OfferMade.eventType }.count == 3)
            }
        }
    }

    @Test("two declines at once on two orders of one slot never offer the one free technician both visits")
    func racingDeclines() async throws {
        try await DispatchFixture.with(technicians: 5) { fixture in
            try await fixture.app().race { client in
                try await fixture.seed(client)
                for technician in fixture.technicians { try await fixture.setProfile(client, technician, visitsPerDay: 12) }
                for window in ["09:00-12:00", "13:00-16:00", "16:00-19:00"] {
                    let first = try #require(try await fixture.book(client, window: window).1?.orderId)
                    let second = try #require(try await fixture.book(client, window: window, as: fixture.otherMember).1?.orderId)
                    let (seatsOfFirst, seatsOfSecond) = (try await fixture.seats(first), try await fixture.seats(second))
                    let holding = Set(seatsOfFirst.values.map(\.0) + seatsOfSecond.values.map(\.0))
                    let free = try #require(Set(fixture.technicians).subtracting(holding).first, "\(window): four seats, five technicians")
                    let decliners = [(first, try #require(seatsOfFirst[1]?.0)), (second, try #require(seatsOfSecond[1]?.0))]
                    let answers = try await concurrently(2) { index in
                        try await fixture.act(client, "decline", decliners[index].0, as: decliners[index].1, body: #"{"reason": "ill"}"#)
                    }
                    #expect(answers == [.noContent, .noContent])
                    let offeredTo = [try await fixture.seats(first), try await fixture.seats(second)].map { Set($0.values.map(\.0)) }
                    #expect(offeredTo.filter { $0.contains(free) }.count == 1, "\(window): \(free) in \(offeredTo)")
                }
            }
        }
    }

    @Test("a member moving the visit while its technicians answer gets no server error, nor do they")
    func rescheduleWhileAnswering() async throws {
        try await DispatchFixture.with(technicians: 4) { fixture in
            try await fixture.app().race { client in
                try await fixture.seed(client)
                let member = try await fixture.token(.member, fixture.member)
                let windows = ["09:00-12:00", "13:00-16:00", "16:00-19:00"]
                for round in 0..<6 {
                    let (_, made) = try await fixture.book(client, window: windows[round % 3])
                    let booking = try #require(made)
                    let orderId = try #require(booking.orderId)
                    let seats = try await fixture.seats(orderId)
                    let (first, second) = (try #require(seats[1]?.0), try #require(seats[2]?.0))
                    let answers = try await concurrently(3) { index in
                        switch index {
                        case 0:
                            let body = #"{"date": "\#(fixture.visitDay)", "window": "\#(windows[(round + 1) % 3])"}"#
                            return try await fixture.send(client, .post, "/api/v1/bookings/\(booking.id)/reschedule", token: member, body: body).0
                        case 1: return try await fixture.act(client, "accept", orderId, as: first)
                        default: return try await fixture.act(client, "decline", orderId, as: second, body: #"{"reason": "ill"}"#)
                        }
                    }
                    #expect(answers.allSatisfy { $0.code < 500 }, "round \(round): \(answers)")
                    _ = try await fixture.send(client, .post, "/api/v1/bookings/\(booking.id)/cancel", token: member, body: #"{"reason": "test"}"#)
                }
            }
        }
    }

    @Test("an offer that lapses goes to the next candidate once, with two replicas and across a restart; then the manager is alerted once")
    func lapses() async throws {
        try await DispatchFixture.with(technicians: 4) { fixture in
            let t = fixture.technicians
            let orderBox = OrderBox()
            try await fixture.app().test(.live) { first in
                try await fixture.app().test(.live) { _ in
                    try await fixture.seed(first)
                    let (_, made) = try await fixture.book(first)
                    let orderId = try #require(made?.orderId)
                    orderBox.set(orderId)
                    #expect(try await fixture.act(first, "accept", orderId, as: t[0]) == .ok)
                    fixture.clock.advance(by: 15 * 60 + 1)
                    try await waitUntil("seat 2 goes to the next candidate") { try await fixture.seats(orderId)[2]?.0 == t[2] }
                    try await Task.sleep(for: .seconds(2))
                    #expect(try await fixture.published(OfferExpired.eventType) == 1)
                    #expect(try await fixture.seats(orderId)[1]! == (t[0], "accepted"))
                }
            }
            let orderId = try #require(orderBox.value)
            // Nobody runs while the next offer's time passes; a new start fires it.
            fixture.clock.advance(by: 15 * 60 + 1)
            try await fixture.app().test(.live) { client in
                try await waitUntil("the lapse due while stopped fires after the restart", timeout: .seconds(20)) {
                    try await fixture.seats(orderId)[2]?.0 == t[3]
                }
                fixture.clock.advance(by: 15 * 60 + 1)
                try await waitUntil("the last candidate's offer lapses too") { try await fixture.seats(orderId)[2] == nil }
                try await Task.sleep(for: .seconds(2))
                #expect(try await fixture.published(OfferExpired.eventType) == 3)
                #expect(try await fixture.published(CrewIncomplete.eventType) == 1)
                let order = try await fixture.order(client, orderId, as: try await fixture.token(.storeManager, fixture.manager))
                #expect(order.status == .offered && order.timeline?.contains { $0.kind == CrewIncomplete.eventType } == true)
                let expired = (order.timeline ?? []).filter { $0.kind == OfferExpired.eventType }
                #expect(expired.map(\.detail) == [t[1], t[2], t[3]].map { "seat 2: \($0) (not answered in time)" })
            }
        }
    }

    @Test("with no candidate left the store manager is alerted and assigns by hand, over the rules, with the reason recorded")
    func handAssignment() async throws {
        try await DispatchFixture.with(technicians: 3) { fixture in
            try await fixture.app().test(.live) { client in
                try await fixture.seed(client)
                let t = fixture.technicians
                try await fixture.setProfile(client, t[2], skills: ["repair"])
                let (_, made) = try await fixture.book(client)
                let orderId = try #require(made?.orderId)
                #expect(try await fixture.seats(orderId).mapValues(\.0) == [1: t[0], 2: t[1]])
                #expect(try await fixture.act(client, "decline", orderId, as: t[1], body: #"{"reason": "Sick"}"#) == .noContent)
                #expect(try await fixture.seats(orderId).mapValues(\.0) == [1: t[0]])
                #expect(try await fixture.published(CrewIncomplete.eventType) == 1)

                let manager = try await fixture.token(.storeManager, fixture.manager)
                let guide = try await fixture.token(.guide, fixture.guide)
                let body = #"{"technicianId": "\#(t[2])", "reason": "Trained on the job last week"}"#
                #expect(try await fixture.send(client, .put, "/api/v1/orders/\(orderId)/seats/2", token: guide, body: body).0 == .forbidden)
                let taken = #"{"technicianId": "\#(t[0])", "reason": "x"}"#
                #expect(
                    try await fixture.send(client, .put, "/api/v1/orders/\(orderId)/seats/2", token: manager, body: taken).0 == .unprocessableContent
                )
                #expect(try await fixture.send(client, .put, "/api/v1/orders/\(orderId)/seats/2", token: manager, body: body).0 == .ok)
                #expect(try await fixture.act(client, "accept", orderId, as: t[0]) == .ok)
                let order = try await fixture.order(client, orderId, as: manager)
                #expect(order.status == .dispatched)
                #expect(order.seats.first { $0.seat == 2 }?.why == "assigned by \(fixture.manager): Trained on the job last week")
            }
        }
    }

    @Test("a crew still incomplete shortly before the slot alerts the store manager once")
    func deadlineAlert() async throws {
        try await DispatchFixture.with(technicians: 2) { fixture in
            var settings = DispatchSettings()
            settings.offerTimeout = 24 * 3600
            settings.crewAlertLead = 30 * 3600  // the slot is 31 h 14 min after the clock's start
            try await fixture.app(settings: settings).test(.live) { client in
                try await fixture.seed(client)
                let (_, made) = try await fixture.book(client)
                let orderId = try #require(made?.orderId)
                #expect(try await fixture.act(client, "accept", orderId, as: fixture.technicians[0]) == .ok)
                fixture.clock.advance(by: 3600)
                try await Task.sleep(for: .seconds(2))
                #expect(try await fixture.published(CrewIncomplete.eventType) == 0)
                fixture.clock.advance(by: 15 * 60)
                try await waitUntil("the deadline alert") { try await fixture.published(CrewIncomplete.eventType) == 1 }
                fixture.clock.advance(by: 3600)
                try await Task.sleep(for: .seconds(2))
                #expect(try await fixture.published(CrewIncomplete.eventType) == 1)
                let order = try await fixture.order(client, orderId, as: try await fixture.token(.storeManager, fixture.manager))
                #expect(order.timeline?.last { $0.kind == CrewIncomplete.eventType }?.detail == "1 seat still open shortly before the slot")
            }
        }
    }

    @Test("a technician who leaves gives back their seat, which goes to the next candidate")
    func technicianLeaves() async throws {
        try await DispatchFixture.with(technicians: 3) { fixture in
            try await fixture.app().test(.live) { client in
                try await fixture.seed(client)
                let t = fixture.technicians
                let (_, made) = try await fixture.book(client)
                let orderId = try #require(made?.orderId)
                #expect(try await fixture.act(client, "accept", orderId, as: t[0]) == .ok)
                #expect(try await fixture.act(client, "accept", orderId, as: t[1]) == .ok)
                try await BusStandIn(broker: fixture.bed.configuration.broker).publish(
                    [StaffLeft(staffId: t[0])],
                    aggregate: t[0],
                    producer: "membership"
                )
                try await waitUntil("the leaver's seat is offered to the next candidate") { try await fixture.seats(orderId)[1]?.0 == t[2] }
                let order = try await fixture.order(client, orderId, as: try await fixture.token(.storeManager, fixture.manager))
                #expect(order.status == .offered && order.seats.first { $0.seat == 2 }?.status == .accepted)
                let profile = try await fixture.send(
                    client,
                    .get,
                    "/api/v1/technicians/\(t[0])",
                    token: try await fixture.token(.dealerAdmin, fixture.dealerAdmin)
                )
                #expect(try JSONDecoder.iso.decode(Technicians.View.self, from: profile.1).active == false)
            }
        }
    }
}

/// Carries the order id out of the first pair of replicas.
final class OrderBox: Sendable {
    private let id = Mutex<UUID?>(nil)
    var value: UUID? { id.withLock { $0 } }
    func set(_ value: UUID) { id.withLock { $0 = value } }
}
