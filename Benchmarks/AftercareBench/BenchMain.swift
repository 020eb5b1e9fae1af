import ArgumentParser

/// Measures the messaging platform on the local PostgreSQL and RabbitMQ that
/// `scripts/run-bench` starts. Build in release mode; results go to standard output as tables.
@main
struct AftercareBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "aftercare-bench",
        abstract:
            "Benchmarks of the Aftercare platform (messaging throughput, timer lag), the membership service at scale the complaint promise, staff alerts, dispatch and coupons under load.",
        subcommands: [
            MessagingBench.self, EnvelopeBench.self, TimerBench.self, MembershipBench.self, FeedbackBench.self, NotificationBench.self,
            DispatchBench.self, CouponBench.self,
        ]
    )
}
