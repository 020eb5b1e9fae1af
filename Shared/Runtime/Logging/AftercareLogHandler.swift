import Foundation
import Logging

/// Writes one line per log record to standard output: JSON lines for containers and log
/// shippers, readable text for a terminal. Every value passes through `LogRedaction`.
public struct AftercareLogHandler: LogHandler {
    public var logLevel: Logger.Level
    public var metadata: Logger.Metadata = [:]
    public var metadataProvider: Logger.MetadataProvider?
    private let label: String
    private let format: LogFormat
    private let write: @Sendable (String) -> Void

    public init(
        label: String,
        level: Logger.Level,
        format: LogFormat,
        write: @escaping @Sendable (String) -> Void = AftercareLogHandler.writeToStandardOutput
    ) {
        self.label = label
        self.logLevel = level
        self.format = format
        self.write = write
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var merged = metadata
        if let provided = metadataProvider?.get() { merged.merge(provided) { $1 } }
        if let extra = event.metadata { merged.merge(extra) { $1 } }
        let timestamp = Date().formatted(Date.ISO8601FormatStyle(includingFractionalSeconds: true))
        let message = LogRedaction.redact(event.message.description)
        switch format {
        case .json:
            var object: [String: String] = ["ts": timestamp, "level": event.level.rawValue, "logger": label, "msg": message]
            for (key, value) in merged { object[key] = LogRedaction.redact(value.description) }
            write(Self.jsonLine(object))
        case .text:
            let fields = merged.sorted { $0.key < $1.key }.map { "\($0.key)=\(LogRedaction.redact($0.value.description))" }
            write(
                "\(timestamp) \(event.level.rawValue.uppercased()) \(label): \(message)\(fields.isEmpty ? "" : " " + fields.joined(separator: " "))"
            )
        }
    }

    static func jsonLine(_ object: [String: String]) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        guard let data = try? encoder.encode(object) else { return "{\"msg\":\"unencodable log record\"}" }
        return String(decoding: data, as: UTF8.self)
    }

    public static let writeToStandardOutput: @Sendable (String) -> Void = { line in
        FileHandle.standardOutput.write(Data((line + "\n").utf8))
    }
}

public enum LogBootstrap {
    /// Installs the handler for the whole process; call once, first thing in `main`.
    public static func bootstrap(level: Logger.Level, format: LogFormat) {
        LoggingSystem.bootstrap { label in AftercareLogHandler(label: label, level: level, format: format) }
    }
}
