import AftercareAMQP
import AftercareEffects
import AftercareJourney
import AftercareRuntime
import AftercareTestSupport
import ArgumentParser
import AsyncHTTPClient
import Foundation
import Logging

/// A fault campaign: members' journeys walked concurrently, beside members filing complaints, for a bounded time while each
/// service in turn is killed (`kill -9`) and started again, the network between dispatch and
/// the broker is cut, the SMS gateway fails and then answers slowly, then RabbitMQ and
/// PostgreSQL are restarted; afterwards every service's outbox, inbox and effect tables are
/// read and each event published must have been applied by each subscriber, each effect
/// found once.
/// `scripts/run-chaos` sets up the test profile's PostgreSQL and RabbitMQ and runs it.
@main
struct AftercareChaos: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "aftercare-chaos",
        abstract: "Walk journeys across the five services while killing and restarting them, then count every effect."
    )

    @Option(help: "How long journeys keep being started, in seconds (60-3600).") var seconds = 240
    @Option(help: "Journeys walked at once (1-32).") var walkers = 4
    @Option(help: "Members filing complaints at once, beside the journeys (0-32).") var complainers = 2
    @Option(help: "How long the checker waits for events still on their way, in seconds.") var settle = 120

    func run() async throws {
        guard (60...3600).contains(seconds), (1...32).contains(walkers), (0...32).contains(complainers), (1...3600).contains(settle) else {
            throw ValidationError("--seconds must be 60-3600, --walkers 1-32, --complainers 0-32, --settle 1-3600")
        }
        let logger = Logger(label: "aftercare-chaos")
        let began = Date()
        let tokens = try await ServiceProcess.tokenAuthority()
        // Dispatch reaches the broker through a proxy the campaign can cut.
        let broker = try Self.brokerURL(of: "dispatch")
        let proxy = try await BlackholeProxy(targetHost: broker.host ?? "127.0.0.1", targetPort: broker.port ?? 5672)
        var proxied = broker
        proxied.host = "127.0.0.1"
        proxied.port = proxy.port
        let overrides = ["dispatch": ["AMQP_URL": proxied.string ?? ""]]
        let outcome = try await FakeGateway().running { gateway in
            let fleet = try Fleet(overrides: overrides.merging(["notification": ["NOTIFICATION_SMS_URL": gateway.baseURL]]) { $1 })
            try await fleet.startAll()
            let addresses = SuiteAddresses { fleet.url($0) }
            print("fault campaign: \(walkers) journeys and \(complainers) complaining members at a time for \(seconds) s\n")
            let until = ContinuousClock.now + .seconds(seconds)
            async let walked = Walkers(count: walkers, complainers: complainers, addresses: addresses, tokens: tokens).walk(until: until)
            let faults = try await FaultPlan(fleet: fleet, gateway: gateway, cutOff: ("dispatch", proxy)).inject(over: .seconds(seconds))
            let journeys = await walked
            let filed = journeys.complaintKeys
            let report = try await EffectChecker.with(
                databases: try ServiceProcess.databaseURLs(),
                subscriptions: try BrokerSubscriptions.all(),
                since: began,
                logger: logger
            ) { checker in
                try await checker.settled(within: .seconds(settle), complaintKeys: filed) { gateway.received.compactMap(\.idempotencyKey) }
            }
            await fleet.stopAll()
            return (faults, journeys, report)
        }
        try await proxy.close()
        await deleteServiceQueues(of: ServiceProcess.all.map(\.1), broker: try AMQPSettings(url: try TestEnvironment.amqpURL()))
        let (faults, journeys, report) = outcome
        print(
            "\nfaults (each service killed with SIGKILL and started again, dispatch cut off from the broker, the SMS gateway failing and slow, the broker and the database restarted)\n"
        )
        print(faults.table)
        print(journeys.summary)
        print(report.table)
        if !report.passed { throw ExitCode(1) }
    }

    /// A service's broker URL from the services' environment file.
    static func brokerURL(of service: String) throws -> URLComponents {
        let text = try ServiceProcess.servicesEnvironment()["\(service.uppercased())_AMQP_URL"] ?? ""
        guard let url = URLComponents(string: text), url.port != nil else { throw CampaignFailure("no broker URL for \(service)") }
        return url
    }
}
