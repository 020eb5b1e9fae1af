import AftercareRuntime
import AftercareTestSupport
import Foundation
import Hummingbird
import HummingbirdTesting
import Testing

@testable import FeedbackService

@Suite("The callback SLA report", .timeLimit(.minutes(3)))
struct SLAReportTests {
    @Test("counts complaints, callbacks within the promise, the median time to callback and escalations per level, within scope")
    func report() async throws {
        try await FeedbackFixture.with { fixture in
            try await fixture.app().test(.live) { client in
                try await fixture.seedOrganisation(client)
                let start = fixture.clock.now()
                let kept = try await fixture.openComplaint(client)
                let missed = try await fixture.openComplaint(client)
                fixture.clock.advance(by: 120)
                let guideToken = try await fixture.token(.guide, fixture.guide)
                try await client.execute(
                    uri: "/api/v1/callback-tasks/\(kept.callbackTask.id)/calls",
                    method: .post,
                    headers: .bearer(guideToken),
                    body: ByteBuffer(string: #"{"reached": true}"#)
                ) { #expect($0.status == .ok) }
                try await fixture.advance(by: 200)  // the other one passes its guide deadline
                #expect(try await eventually { try await fixture.taskLevel(of: missed.callbackTask.id) == "store_manager" })

                let period = "from=\(start.addingTimeInterval(-60).formatted(.iso8601))&to=\(start.addingTimeInterval(3600).formatted(.iso8601))"
                let managerToken = try await fixture.token(.storeManager, fixture.manager)
                try await client.execute(uri: "/api/v1/reports/callback-sla?\(period)", method: .get, headers: .bearer(managerToken)) { response in
                    #expect(response.status == .ok)
                    let report = try JSONDecoder.iso.decode(CallbackSLA.Report.self, from: Data(buffer: response.body))
                    #expect(
                        report.rows == [
                            CallbackSLA.Row(
                                group: fixture.store,
                                complaints: 2,
                                calledBack: 1,
                                calledBackWithinPromise: 1,
                                shareWithinPromise: 0.5,
                                medianSecondsToCallback: 120,
                                escalations: ["guide": 1]
                            )
                        ]
                    )
                }
                let otherManager = try await fixture.token(.storeManager, "\(fixture.prefix)sm-9", store: "\(fixture.prefix)s-9")
                try await client.execute(uri: "/api/v1/reports/callback-sla?\(period)", method: .get, headers: .bearer(otherManager)) { response in
                    let report = try JSONDecoder.iso.decode(CallbackSLA.Report.self, from: Data(buffer: response.body))
                    #expect(report.rows.isEmpty)
                }
                try await client.execute(
                    uri: "/api/v1/reports/callback-sla?from=yesterday&groupBy=region",
                    method: .get,
                    headers: .bearer(managerToken)
                ) { response in
                    #expect(response.status == .unprocessableContent)
                    let problem = try response.problem()
                    #expect(Set(problem.errors?.map(\.field) ?? []) == ["from", "to", "groupBy"])
                }
            }
        }
    }
}
