import AftercareContracts
import AftercareRuntime
import AftercareTestSupport
import Foundation
import Hummingbird
import HummingbirdTesting
import Testing

@testable import MembershipService

@Suite("Members: registration, scope and handover on a real PostgreSQL and RabbitMQ", .timeLimit(.minutes(3)))
struct MemberRegistrationTests {
    @Test("an invite code binds the member to its guide, store and dealer; the event carries contact and consent")
    func inviteCodeBinds() async throws {
        try await MembershipFixture.with { fixture in
            try await fixture.app().test(.live) { client in
                let codes = try await fixture.seedOrganisation(client)
                let member = try await fixture.register(client, phone: "138 1111 2222", code: try #require(codes["g2"]).lowercased())
                #expect(member.guideId == fixture.id("g2"))
                #expect(member.storeId == fixture.store1)
                #expect(member.dealerId == fixture.dealer)
                #expect(member.phone == "+8613811112222")
                #expect(member.tier == "member")
                let event = try #require(try await fixture.payloads(MemberRegistered.self).first)
                #expect(
                    event
                        == MemberRegistered(
                            memberId: member.id.uuidString.lowercased(),
                            guideId: fixture.id("g2"),
                            storeId: fixture.store1,
                            dealerId: fixture.dealer,
                            serviceMessagesConsent: true,
                            marketingConsent: false,
                            phone: "+8613811112222",
                            name: "Li Lei",
                            referredBy: nil,
                            timeZone: "Asia/Shanghai"
                        )
                )
                #expect(try await fixture.published(StaffJoined.eventType) == 5)
                // Each store's clock and hours go to feedback, which starts complaints at the HQ desk while a store is closed.
                let stores = try await fixture.payloads(StoreOpened.self)
                #expect(Set(stores.map(\.storeId)) == [fixture.store1, fixture.store2])
                #expect(stores.allSatisfy { $0.timeZone == "Asia/Shanghai" && $0.businessHours == nil })
            }
        }
    }

    @Test("registering an existing phone returns the existing member and changes nothing")
    func duplicateRegistration() async throws {
        try await MembershipFixture.with { fixture in
            try await fixture.app().test(.live) { client in
                let codes = try await fixture.seedOrganisation(client)
                let first = try await fixture.register(client, phone: "13811112222", code: try #require(codes["g1"]))
                let service = try await fixture.token(.service, "mini-program", dealer: "")
                let again = try await fixture.call(
                    client,
                    .post,
                    "/api/v1/members",
                    token: service,
                    body:
                        #"{"phone": "+86 138-1111-2222", "inviteCode": "\#(try #require(codes["g3"]))", "name": "Someone Else", "serviceMessagesConsent": false, "marketingConsent": true}"#
                )
                #expect(again.status == .ok)
                let existing = try again.decode(MemberView.self)
                #expect(existing.id == first.id)
                #expect(existing.name == "Li Lei")
                #expect(existing.guideId == fixture.id("g1"))
                #expect(try await fixture.count("SELECT count(*) FROM members") == 1)
                #expect(try await fixture.published(MemberRegistered.eventType) == 1)
            }
        }
    }

    @Test("twenty concurrent registrations of one phone give one member, answered to all twenty")
    func racingRegistration() async throws {
        try await MembershipFixture.with { fixture in
            try await fixture.app().race { client in
                let codes = try await fixture.seedOrganisation(client)
                let service = try await fixture.token(.service, "mini-program", dealer: "")
                let code = try #require(codes["g1"])
                let replies = try await concurrently(20) { _ in
                    try await fixture.call(
                        client,
                        .post,
                        "/api/v1/members",
                        token: service,
                        body: #"{"phone": "13811115555", "inviteCode": "\#(code)", "serviceMessagesConsent": true, "marketingConsent": false}"#
                    )
                }
                #expect(replies.filter { $0.status == .created }.count == 1)
                #expect(replies.filter { $0.status == .ok }.count == 19)
                #expect(Set(replies.compactMap { try? $0.decode(MemberView.self).id }).count == 1)
                #expect(try await fixture.count("SELECT count(*) FROM members") == 1)
                #expect(try await fixture.published(MemberRegistered.eventType) == 1)
            }
        }
    }

    @Test("bad input is refused with the field named; a left guide's code no longer registers")
    func badInput() async throws {
        try await MembershipFixture.with { fixture in
            try await fixture.app().test(.live) { client in
                let codes = try await fixture.seedOrganisation(client)
                let service = try await fixture.token(.service, "mini-program", dealer: "")
                let badPhone = try await fixture.call(
                    client,
                    .post,
                    "/api/v1/members",
                    token: service,
                    body:
                        #"{"phone": "12345", "inviteCode": "ABCDEFGH", "serviceMessagesConsent": true, "marketingConsent": false, "birthday": {"month": 2, "day": 30}}"#
                )
                #expect(badPhone.status == .unprocessableContent)
                #expect(Set(badPhone.problem?.errors?.map(\.field) ?? []) == ["phone", "birthday.day"])
                let unknownCode = try await fixture.call(
                    client,
                    .post,
                    "/api/v1/members",
                    token: service,
                    body: #"{"phone": "13811112222", "inviteCode": "ZZZZZZZZ", "serviceMessagesConsent": true, "marketingConsent": false}"#
                )
                #expect(unknownCode.problem?.errors?.first?.field == "inviteCode")
                let hq = try await fixture.hq
                try fixture.expect(.ok, try await fixture.call(client, .post, "/api/v1/staff/\(fixture.id("g3"))/leave", token: hq, body: "{}"))
                let leftCode = try await fixture.call(
                    client,
                    .post,
                    "/api/v1/members",
                    token: service,
                    body:
                        #"{"phone": "13811112222", "inviteCode": "\#(try #require(codes["g3"]))", "serviceMessagesConsent": true, "marketingConsent": false}"#
                )
                #expect(leftCode.status == .unprocessableContent)
                #expect(leftCode.problem?.errors?.first?.message.contains("left") == true)
                #expect(try await fixture.count("SELECT count(*) FROM members") == 0)
            }
        }
    }

    @Test("each role sees its own scope: another store's guide gets 404, dealer admins see masked phones, members only themselves")
    func scopes() async throws {
        try await MembershipFixture.with { fixture in
            try await fixture.app().test(.live) { client in
                let codes = try await fixture.seedOrganisation(client)
                let mine = try await fixture.register(client, phone: "13811112222", code: try #require(codes["g1"]))
                let other = try await fixture.register(client, phone: "13911113333", code: try #require(codes["g3"]))
                let g1 = try await fixture.guide("g1", store: fixture.store1)
                let g3 = try await fixture.guide("g3", store: fixture.store2)
                #expect(try await fixture.call(client, .get, "/api/v1/members/\(mine.id)", token: g1).status == .ok)
                #expect(try await fixture.call(client, .get, "/api/v1/members/\(mine.id)", token: g3).status == .notFound)
                let g2 = try await fixture.guide("g2", store: fixture.store1)
                #expect(
                    try await fixture.call(client, .get, "/api/v1/members/\(mine.id)", token: g2).status == .notFound,
                    "a guide sees only their own members"
                )
                let manager = try await fixture.token(.storeManager, fixture.id("sm1"), store: fixture.store1)
                let listed = try await fixture.call(client, .get, "/api/v1/members", token: manager).decode(MemberBook.Page.self)
                #expect(listed.members.map(\.id) == [mine.id])
                #expect(listed.members.first?.phone == "+8613811112222")
                let admin = try await fixture.token(.dealerAdmin, fixture.id("da"))
                let all = try await fixture.call(client, .get, "/api/v1/members", token: admin).decode(MemberBook.Page.self)
                #expect(Set(all.members.map(\.id)) == [mine.id, other.id])
                #expect(all.members.allSatisfy { $0.phone.contains("****") })
                let otherDealer = try await fixture.token(.dealerAdmin, "x", dealer: "someone-else")
                #expect(try await fixture.call(client, .get, "/api/v1/members", token: otherDealer).decode(MemberBook.Page.self).members.isEmpty)
                let me = try await fixture.token(.member, mine.id.uuidString.lowercased(), dealer: "")
                let own = try await fixture.call(client, .get, "/api/v1/members/\(mine.id)", token: me)
                #expect(own.status == .ok, "\(String(decoding: own.body, as: UTF8.self))")
                #expect(try await fixture.call(client, .get, "/api/v1/members/\(other.id)", token: me).status == .notFound)
                #expect(try await fixture.call(client, .get, "/api/v1/members", token: me).status == .forbidden)
            }
        }
    }

    @Test("search filters by phone, name, tag, and pages with a cursor")
    func searchAndTags() async throws {
        try await MembershipFixture.with { fixture in
            try await fixture.app().test(.live) { client in
                let codes = try await fixture.seedOrganisation(client)
                var ids: [UUID] = []
                for index in 0..<5 {
                    fixture.clock.advance(by: 1)
                    ids.append(try await fixture.register(client, phone: "1381111000\(index)", code: try #require(codes["g1"])).id)
                }
                let g1 = try await fixture.guide("g1", store: fixture.store1)
                let tagged = try await fixture.call(
                    client,
                    .put,
                    "/api/v1/members/\(ids[2])/tags",
                    token: g1,
                    body: #"{"tags": ["vip", "new-home", "vip"]}"#
                )
                #expect(try tagged.decode(MemberView.self).tags == ["vip", "new-home"])
                #expect(try await fixture.published(MemberUpdated.eventType) == 1)
                let byTag = try await fixture.call(client, .get, "/api/v1/members?tag=vip", token: g1).decode(MemberBook.Page.self)
                #expect(byTag.members.map(\.id) == [ids[2]])
                let byPhone = try await fixture.call(client, .get, "/api/v1/members?phone=%2B8613811110004", token: g1).decode(MemberBook.Page.self)
                #expect(byPhone.members.map(\.id) == [ids[4]])
                var seen: [UUID] = []
                var cursor: String?
                repeat {
                    let query = cursor.map { "&cursor=\($0.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? $0)" } ?? ""
                    let page = try await fixture.call(client, .get, "/api/v1/members?limit=2\(query)", token: g1).decode(MemberBook.Page.self)
                    seen += page.members.map(\.id)
                    cursor = page.nextCursor
                } while cursor != nil
                #expect(seen == ids)
                #expect(try await fixture.call(client, .get, "/api/v1/members?cursor=nonsense", token: g1).problem?.errors?.first?.field == "cursor")
            }
        }
    }

    @Test("a leaving guide's members all go to the least-loaded guide of the store, one event each; with nobody left the departure is refused")
    func handover() async throws {
        try await MembershipFixture.with { fixture in
            try await fixture.app().test(.live) { client in
                let codes = try await fixture.seedOrganisation(client)
                for index in 0..<3 { _ = try await fixture.register(client, phone: "1381111000\(index)", code: try #require(codes["g1"])) }
                _ = try await fixture.register(client, phone: "13811110009", code: try #require(codes["g3"]))
                let manager = try await fixture.token(.storeManager, fixture.id("sm1"), store: fixture.store1)
                let left = try await fixture.call(client, .post, "/api/v1/staff/\(fixture.id("g1"))/leave", token: manager, body: "{}")
                let departure = try left.decode(Organisation.Departure.self)
                #expect(departure.handedOverTo == fixture.id("g2"))
                #expect(departure.membersHandedOver == 3)
                #expect(try await fixture.count("SELECT count(*) FROM members WHERE guide_id = '\(fixture.id("g1"))'") == 0)
                #expect(try await fixture.count("SELECT count(*) FROM members m JOIN staff s ON s.id = m.guide_id WHERE s.status <> 'active'") == 0)
                #expect(try await fixture.payloads(MemberGuideReassigned.self).filter { $0.toGuideId == fixture.id("g2") }.count == 3)
                #expect(try await fixture.payloads(StaffLeft.self) == [StaffLeft(staffId: fixture.id("g1"))])
                // G3 is the only guide of store 2: nobody could take over their member.
                let hq = try await fixture.hq
                let refused = try await fixture.call(client, .post, "/api/v1/staff/\(fixture.id("g3"))/leave", token: hq, body: "{}")
                #expect(refused.status == .conflict)
                #expect(try await fixture.count("SELECT count(*) FROM staff WHERE id = '\(fixture.id("g3"))' AND status = 'active'") == 1)
                // A manager may not name a guide of another store.
                let wrong = try await fixture.call(
                    client,
                    .post,
                    "/api/v1/staff/\(fixture.id("g2"))/leave",
                    token: hq,
                    body: #"{"handoverTo": "\#(fixture.id("g3"))"}"#
                )
                #expect(wrong.problem?.errors?.first?.field == "handoverTo")
            }
        }
    }
}
