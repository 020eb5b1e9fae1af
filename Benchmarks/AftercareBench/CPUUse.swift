import Foundation

/// CPU time (user and system) the parts of a benchmark used, read from /proc: the service
/// under test, PostgreSQL (every `postgres` process, with the backends it has reaped),
/// RabbitMQ (`beam.smp`) and the benchmark itself. The difference of two readings is what a
/// phase cost each part; on a machine whose cores they all share, it says where a phase's
/// time went.
struct CPUUse: Sendable {
    /// Seconds per part.
    let seconds: [String: Double]

    static let parts = ["service", "PostgreSQL", "RabbitMQ", "bench"]

    static func now(service: Int32) -> CPUUse {
        var seconds = ["service": ticks(service, children: false), "bench": ticks(getpid(), children: false)]
        var database = 0.0
        var broker = 0.0
        let pids = (try? FileManager.default.contentsOfDirectory(atPath: "/proc"))?.compactMap { Int32($0) } ?? []
        for pid in pids {
            switch command(pid) {
            case "postgres": database += ticks(pid, children: true)
            case "beam.smp": broker += ticks(pid, children: false)
            default: continue
            }
        }
        seconds["PostgreSQL"] = database
        seconds["RabbitMQ"] = broker
        return CPUUse(seconds: seconds)
    }

    /// Milliseconds per operation of each part between `earlier` and this reading.
    func perOperation(since earlier: CPUUse, operations: Int) -> [String: Double] {
        var each: [String: Double] = [:]
        for part in Self.parts {
            each[part] = ((seconds[part] ?? 0) - (earlier.seconds[part] ?? 0)) * 1000 / Double(max(1, operations))
        }
        return each
    }

    /// `service / PostgreSQL / RabbitMQ / bench = total` in milliseconds.
    static func describe(_ each: [String: Double]) -> String {
        let values = parts.map { each[$0] ?? 0 }
        return values.map { String(format: "%.2f", $0) }.joined(separator: " / ") + String(format: " = %.2f ms", values.reduce(0, +))
    }

    private static func command(_ pid: Int32) -> String? {
        (try? String(contentsOfFile: "/proc/\(pid)/comm", encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// utime + stime (and, with `children`, the reaped children's), in seconds.
    private static func ticks(_ pid: Int32, children: Bool) -> Double {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
            let end = stat.lastIndex(of: ")")
        else { return 0 }
        // After the command: state, ppid, … utime (12th), stime, cutime, cstime.
        let fields = stat[stat.index(after: end)...].split(separator: " ")
        guard fields.count > 14 else { return 0 }
        let own = (Double(fields[11]) ?? 0) + (Double(fields[12]) ?? 0)
        let reaped = children ? (Double(fields[13]) ?? 0) + (Double(fields[14]) ?? 0) : 0
        return (own + reaped) / Double(max(1, sysconf(Int32(_SC_CLK_TCK))))
    }
}
