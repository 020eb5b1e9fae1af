import AftercarePersistence
import Dispatch
import Foundation
import Hummingbird
import Logging

/// Ends the process if a graceful shutdown (SIGTERM or SIGINT) has not finished within the
/// limit. Nothing is lost by that: events are in the outbox, unacknowledged deliveries go
/// back to the queue, and timers are rows. It exists because a service was seen to stall in
/// shutdown with every thread idle (see README, "Known issues"); an orchestrator would kill
/// it too, later and without saying why.
public final class ShutdownWatchdog {
    private let sources: [any DispatchSourceSignal]

    public init(limit: Duration, logger: Logger) {
        let seconds = Double(limit.components.seconds)
        sources = [SIGTERM, SIGINT].map { signalNumber in
            // The signal sources of swift-service-lifecycle ignore the default action too;
            // without this the first SIGTERM would kill the process before any handler ran.
            signal(signalNumber, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: signalNumber, queue: .global())
            source.setEventHandler {
                DispatchQueue.global().asyncAfter(deadline: .now() + seconds) {
                    logger.critical("graceful shutdown did not finish in time; exiting", metadata: [
                        "limit_seconds": "\(Int(seconds))", "still_running": "\(ServiceTracker.unfinished.joined(separator: ", "))",
                    ])
                    exit(1)
                }
            }
            source.resume()
            return source
        }
    }
}

extension ApplicationProtocol {
    /// Runs the application until SIGTERM or SIGINT, with a bounded graceful shutdown. A
    /// failure (start-up could not reach the database, a migration failed) is logged as
    /// critical with its reason and ends the process with status 1.
    public func runService(configuration: ServiceConfiguration) async throws {
        let logger = Logger(label: configuration.service.name)
        let watchdog = ShutdownWatchdog(limit: .seconds(Int64(configuration.shutdownTimeoutSeconds)), logger: logger)
        do {
            try await runService()
        } catch {
            logger.critical("the service stopped on an error", metadata: ["error": "\(ErrorText.describe(error))"])
            exit(1)
        }
        withExtendedLifetime(watchdog) {}
    }
}
