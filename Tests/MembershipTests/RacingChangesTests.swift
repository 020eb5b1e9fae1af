import AftercareRuntime
import AftercareTestSupport
import Foundation
import Hummingbird
import HummingbirdTesting
import Testing

@testable import MembershipService

/// Changes that race on a real PostgreSQL: guides leaving while members join them or while
/// the other guide of the store leaves, and HQ replacing the tiers twice at once.
@Suite("Racing changes to guides and tiers", .timeLimit(.minutes(3)))
struct RacingChangesTests {
    /// Members bound to a guide who has left: never any.
    static let orphans = "SELECT count(*) FROM members m JOIN staff s ON s.id = m.guide_id WHERE s.status <> 'active'"

    @Test("members joining a guide while the guide leaves are handed over with the rest, or refused")
    func joinWhileLeaving() async throws {
        try await MembershipFixture.with { fixture in
            try await fixture.app().race { client in
                let code = try #require(try await fixture.seedOrganisation(client)["g1"])
                // Enough members that the departure's hand-over takes a while.
                for index in 0..<150 { _ = try await fixture.register(client, phone: "138111\(String(format: "%05d", index))", code: code) }
                let service = try await fixture.token(.service, "mini-program", dealer: "")
                let hq = try await fixture.hq
                let replies = try await concurrently(31) { index in
                    if index == 0 {
                        return try await fixture.call(client, .post, "/api/v1/staff/\(fixture.id("g1"))/leave", token: hq, body: "{}").status
                    }
                    let body =
                        #"{"phone": "139222\#(String(format: "%05d", index))", "inviteCode": "\#(code)", "serviceMessagesConsent": true, "marketingConsent": false}"#
                    return try await fixture.call(client, .post, "/api/v1/members", token: service, body: body).status
                }
                #expect(replies.allSatisfy { [.ok, .created, .unprocessableContent].contains($0) }, "\(replies)")
                #expect(try await fixture.count(Self.orphans) == 0)
            }
        }
    }

    @Test("two guides leaving at once, each naming the other, leave no member with a guide who has left")
    func crossedDepartures() async throws {
        try await MembershipFixture.with { fixture in
            try await fixture.app().race { client in
                let codes = try await fixture.seedOrganisation(client)
                _ = try await fixture.register(client, phone: "13811116666", code: try #require(codes["g1"]))
                _ = try await fixture.register(client, phone: "13811117777", code: try #require(codes["g2"]))
                let hq = try await fixture.hq
                let pairs = [("g1", "g2"), ("g2", "g1")]
                let replies = try await concurrently(2) { index in
                    let (leaving, taking) = pairs[index]
                    let body = #"{"handoverTo": "\#(fixture.id(taking))"}"#
                    return try await fixture.call(client, .post, "/api/v1/staff/\(fixture.id(leaving))/leave", token: hq, body: body).status
                }
                #expect(replies.sorted { $0.code < $1.code } == [.ok, .unprocessableContent])
                #expect(try await fixture.count(Self.orphans) == 0)
                #expect(try await fixture.count("SELECT count(*) FROM members") == 2)
            }
        }
    }

    @Test("ten replacements of the tiers at once all succeed and leave one of them whole")
    func racingTiers() async throws {
        try await MembershipFixture.with { fixture in
            try await fixture.app().race { client in
                let hq = try await fixture.hq
                let replies = try await concurrently(10) { index in
                    let body =
                        #"{"tiers": [{"name": "basic", "thresholdCents": 0, "multiplier": 1}, {"name": "gold-\#(index)", "thresholdCents": 500000, "multiplier": 2}]}"#
                    return try await fixture.call(client, .put, "/api/v1/tiers", token: hq, body: body).status
                }
                #expect(replies == Array(repeating: .ok, count: 10))
                #expect(try await fixture.count("SELECT count(*) FROM tiers") == 2)
                #expect(try await fixture.count("SELECT count(*) FROM tiers WHERE name LIKE 'gold-%'") == 1)
            }
        }
    }
}
