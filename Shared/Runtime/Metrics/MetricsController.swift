import Hummingbird
import Metrics
import Prometheus
import Synchronization

/// The process-wide Prometheus registry. swift-metrics can be bootstrapped once per process,
/// so the registry is process-wide too; `/metrics` renders it.
public enum AftercareMetrics {
    public static let registry = PrometheusCollectorRegistry()
    private static let bootstrapped = Mutex(false)

    /// Safe to call more than once (tests build many applications in one process).
    public static func bootstrap() {
        bootstrapped.withLock { done in
            guard !done else { return }
            MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: registry))
            done = true
        }
    }
}

public struct MetricsController: Sendable {
    public init() {}

    public func addRoutes(to router: Router<AftercareRequestContext>) {
        router.get("/metrics") { _, _ -> Response in
            let text = AftercareMetrics.registry.emitToString()
            return Response(
                status: .ok,
                headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                body: .init(byteBuffer: ByteBuffer(string: text))
            )
        }
    }
}
