import AftercarePersistence
import Dispatch
import Foundation
import Hummingbird
import Logging
import ServiceLifecycle

extension ApplicationProtocol {
    /// Runs the application until SIGTERM or SIGINT. Shutdown is bounded by
    /// swift-service-lifecycle itself: graceful for `SHUTDOWN_TIMEOUT_SECONDS` less five
    /// seconds, then cancellation for those five, then the process ends. Nothing is lost
    /// by that: events are in the outbox, unacknowledged deliveries go back to the queue,
    /// timers are rows. A failure (start-up could not reach the database, a migration
    /// failed) is logged as critical with its reason and ends the process with status 1.
    public func runService(configuration: ServiceConfiguration) async throws {
        let logger = Logger(label: configuration.service.name)
        let total = Duration.seconds(configuration.shutdownTimeoutSeconds)
        let cancellation = min(.seconds(5), total / 2)
        var group = ServiceGroupConfiguration(services: [.init(service: self)], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)
        group.maximumGracefulShutdownDuration = total - cancellation
        group.maximumCancellationDuration = cancellation
        let report = ShutdownReport(after: total - cancellation, logger: logger)
        do {
            try await ServiceGroup(configuration: group).run()
        } catch {
            logger.critical("the service stopped on an error", metadata: ["error": "\(ErrorText.describe(error))"])
            exit(1)
        }
        withExtendedLifetime(report) {}
    }
}

/// Says what was still running when a graceful shutdown ran out of time, just before it is
/// escalated to cancellation: the last log lines then name the stuck part.
final class ShutdownReport {
    private let sources: [any DispatchSourceSignal]

    init(after limit: Duration, logger: Logger) {
        let seconds = Double(limit.components.seconds)
        sources = [SIGTERM, SIGINT].map { signalNumber in
            // As swift-service-lifecycle's own sources do: without it the default action of
            // the first SIGTERM would end the process before any handler ran.
            signal(signalNumber, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: signalNumber, queue: .global())
            source.setEventHandler {
                DispatchQueue.global().asyncAfter(deadline: .now() + seconds - 0.5) {
                    guard !ServiceTracker.unfinished.isEmpty else { return }
                    logger.error(
                        "graceful shutdown is running out of time; cancelling what is still running",
                        metadata: [
                            "limit_seconds": "\(Int(seconds))", "still_running": "\(ServiceTracker.unfinished.joined(separator: ", "))",
                        ]
                    )
                }
            }
            source.resume()
            return source
        }
    }
}
