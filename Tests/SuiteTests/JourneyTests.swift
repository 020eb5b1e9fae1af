import AftercareEffects
import AftercareJourney
import AftercareRuntime
import AftercareTestSupport
import AsyncHTTPClient
import Foundation
import Testing

extension Executables {
    /// The demo's journey as a test: the five executables as processes against the test
    /// PostgreSQL and RabbitMQ, the SMS gateway a local HTTP server, every step checked through
    /// the APIs (the walk fails at the first that does not turn out) and the gateway's requests.
    /// Months pass by a purchase dated a year back; the one-minute escalation is waited for.
    @Suite("A member's journey across the five services", .timeLimit(.minutes(6)))
    struct JourneyTests {
        @Test("purchase, due list, coupon, booking, a crew of two, the checklist, a low rating, the guide's SMS, escalation, the call")
        func journey() async throws {
            try await FakeGateway().running { gateway in
                var started: [String: ServiceProcess] = [:]
                for (executable, service) in ServiceProcess.all {
                    let overrides = service == "notification" ? ["NOTIFICATION_SMS_URL": gateway.baseURL] : [:]
                    started[service] = try ServiceProcess(executable: executable, service: service, port: try freePort(), overrides: overrides)
                }
                let processes = started
                for process in processes.values { try process.start() }
                defer {
                    Task {
                        for process in processes.values { _ = await process.terminate() }
                        try? await ServiceProcessTests.deleteQueues(of: ServiceProcess.all.map(\.1))
                    }
                }
                for process in processes.values {
                    try #require(await eventually(timeout: .seconds(60)) { await process.get("/health/ready")?.status == 200 }, "\(process.log)")
                }
                let addresses = SuiteAddresses { "http://127.0.0.1:\(processes[$0]?.port ?? 0)" }
                let tokens = try await ServiceProcess.tokenAuthority()
                let run = String(UUID().uuidString.lowercased().prefix(8))
                let journey = Journey(at: addresses, client: JourneyClient(http: HTTPClient.shared), tokens: tokens, run: run) { line in
                    TestEnvironment.logger.info("\(line)")
                }
                let began = Date()
                let report: JourneyReport
                do {
                    report = try await journey.walk()
                } catch let failure as JourneyFailure {
                    let logs = processes.map { "\($0.key):\n\($0.value.log.suffix(3000))" }.joined(separator: "\n")
                    Issue.record("\(failure)\n\(logs)")
                    return
                }
                print((report.lines + ["", report.table]).joined(separator: "\n"))
                // The gateway itself was asked to text the guide, then the store manager.
                let texts = gateway.received.compactMap { request in request.body["to"].map { ($0, request.body["text"] ?? "") } }
                #expect(texts.contains { $0.0.hasSuffix(report.cast.guidePhone) }, "\(texts)")
                #expect(texts.contains { $0.0.hasSuffix(report.cast.managerPhone) }, "\(texts)")
                let hops = report.hops.map(\.name)
                #expect(hops.contains("callback created → escalated to the manager") && hops.contains("completed → coupon consumed"))
                #expect(report.lines.contains { $0.contains("complaint called_back") }, "\(report.lines)")
                try await expectNothingLostOrDuplicated(since: began, gateway: gateway)
            }
        }

        /// Every event published during the walk applied by each subscriber, and each effect
        /// once: a review request per completed order, a consumption per coupon, a gateway
        /// request per SMS (events still on their way get a few seconds).
        func expectNothingLostOrDuplicated(since began: Date, gateway: FakeGateway) async throws {
            let effects = try await EffectChecker.with(
                databases: try ServiceProcess.databaseURLs(),
                subscriptions: try BrokerSubscriptions.all(),
                since: began,
                logger: TestEnvironment.logger
            ) { checker in
                try await checker.settled(within: .seconds(30)) { gateway.received.compactMap(\.idempotencyKey) }
            }
            print(effects.table)
            #expect(effects.passed, "\(effects.table)")
            #expect(effects.effects.allSatisfy { $0.expected >= 1 }, "the checker did not see the walk: \(effects.table)")
            #expect(effects.flows.contains { $0.eventType == "dispatch.order.completed" && $0.consumer == "feedback" && $0.applied >= 1 })
        }
    }
}
