import AftercareContracts
import AftercareRuntime
import AftercareTestSupport
import Foundation
import Hummingbird
import HummingbirdTesting
import Testing

@testable import MembershipService

/// Technicians are staff: a dealer admin (or HQ) registers them for the dealer, with a home
/// store of that dealer or none, and their joining and leaving are events like any staff
/// member's, so dispatch and notification learn of them from the one directory.
@Suite("Technicians are staff", .timeLimit(.minutes(3)))
struct TechnicianTests {
    @Test("a technician joins with a home store or none, their events name the role, and they can leave")
    func technicians() async throws {
        try await MembershipFixture.with { fixture in
            try await fixture.app().test(.router) { client in
                try await fixture.seedOrganisation(client)
                let admin = try await fixture.token(.dealerAdmin, fixture.id("da"), dealer: fixture.dealer)
                func register(_ name: String, store: String?) async throws -> MembershipFixture.Reply {
                    let storeField = store.map { #", "storeId": "\#($0)""# } ?? ""
                    let body =
                        #"{"id": "\#(fixture.id(name))", "dealerId": "\#(fixture.dealer)", "role": "technician", "name": "Tech", "phone": "13900000123"\#(storeField)}"#
                    return try await fixture.call(client, .post, "/api/v1/staff", token: admin, body: body)
                }
                let roaming = try await register("t1", store: nil)
                try fixture.expect(.created, roaming)
                let roamer = try roaming.decode(Organisation.StaffMember.self)
                #expect(roamer.role == .technician && roamer.storeId == nil && roamer.inviteCode == nil)
                let homed = try await register("t2", store: fixture.store2)
                try fixture.expect(.created, homed)
                #expect(try homed.decode(Organisation.StaffMember.self).storeId == fixture.store2)

                // A home store must be one of the dealer's.
                let elsewhere = try await register("t3", store: "\(fixture.prefix)nowhere")
                #expect(elsewhere.status == .unprocessableContent && elsewhere.problem?.errors?.first?.field == "storeId", "\(elsewhere.status)")

                let shown = try await fixture.call(client, .get, "/api/v1/staff/\(fixture.id("t1"))", token: admin)
                #expect(try shown.decode(Organisation.StaffMember.self).role == .technician)

                try fixture.expect(.ok, try await fixture.call(client, .post, "/api/v1/staff/\(fixture.id("t1"))/leave", token: admin, body: "{}"))
                let joined = try await fixture.payloads(StaffJoined.self).filter { $0.role == .technician }
                #expect(Set(joined.map(\.staffId)) == [fixture.id("t1"), fixture.id("t2")])
                #expect(joined.first { $0.staffId == fixture.id("t2") }?.storeId == fixture.store2)
                #expect(try await fixture.payloads(StaffLeft.self).map(\.staffId).contains(fixture.id("t1")))
            }
        }
    }
}
