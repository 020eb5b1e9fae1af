import Foundation

/// A dedicated thread for one connection's blocking librabbitmq calls, so they never occupy
/// Swift's cooperative pool (two threads on a two-core machine). Work is submitted as jobs;
/// between jobs the thread runs the owner's idle step (heartbeats, or waiting for deliveries).
///
/// `@unchecked Sendable`: the job list is guarded by `condition`; everything the jobs touch
/// (the connection) is confined to this one thread.
final class AMQPWorker: @unchecked Sendable {
    private let condition = NSCondition()
    private var jobs: [() -> Void] = []
    private var isStopping = false
    private var thread: Thread?
    private let name: String

    init(name: String) {
        self.name = name
    }

    /// Starts the thread; `idle` runs whenever no job is waiting and must return within a
    /// fraction of a second so jobs and stop requests are seen promptly. `idle` returns false
    /// when its owner is gone: the thread then runs what is queued and ends, so a connection
    /// whose owner was released without stopping it cannot keep the process alive.
    func start(idle: @escaping @Sendable () -> Bool) {
        condition.lock()
        defer { condition.unlock() }
        guard thread == nil, !isStopping else { return }
        let thread = Thread { [self] in
            while let job = nextJob() {
                if let job {
                    job()
                } else if !idle() {
                    condition.lock()
                    isStopping = true
                    condition.unlock()
                }
            }
        }
        thread.name = name
        thread.start()
        self.thread = thread
    }

    /// nil: stop. .some(nil): nothing queued, run the idle step.
    private func nextJob() -> (() -> Void)?? {
        condition.lock()
        defer { condition.unlock() }
        if !jobs.isEmpty { return .some(jobs.removeFirst()) }
        if isStopping { return nil }
        return .some(nil)
    }

    /// Called from the idle step: sleeps until a job arrives or the timeout passes.
    func waitForWork(timeout: Duration) {
        condition.lock()
        defer { condition.unlock() }
        if jobs.isEmpty && !isStopping {
            _ = condition.wait(until: Date(timeIntervalSinceNow: Double(timeout.components.seconds) + Double(timeout.components.attoseconds) / 1e18))
        }
    }

    /// Queues a job; false when the worker is stopping and the job will not run.
    @discardableResult
    func submit(_ job: @escaping () -> Void) -> Bool {
        condition.lock()
        defer { condition.unlock() }
        guard !isStopping else { return false }
        jobs.append(job)
        condition.signal()
        return true
    }

    func perform<T: Sendable>(_ body: @escaping () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            let accepted = submit { continuation.resume(with: Result { try body() }) }
            if !accepted { continuation.resume(throwing: AMQPError.shutDown) }
        }
    }

    /// Runs the jobs already queued, then ends the thread after `final` ran on it.
    func stop(final: @escaping () -> Void) async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            condition.lock()
            let started = thread != nil && !isStopping
            if started {
                jobs.append {
                    final()
                    continuation.resume()
                }
            }
            isStopping = true
            condition.signal()
            condition.unlock()
            if !started { continuation.resume() }
        }
    }
}
