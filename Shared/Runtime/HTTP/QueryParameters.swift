import AftercareContracts
import Foundation
import Hummingbird

extension Request {
    /// The `Idempotency-Key` header when given: a 422 naming it when it is empty or longer
    /// than 200 characters (it is stored with what it made).
    public func idempotencyKey() throws -> String? {
        let key = headers[.idempotencyKey]
        if let key, key.isEmpty || key.count > 200 { throw ProblemDetails.validation(field: "Idempotency-Key", "must be 1 to 200 characters") }
        return key
    }

    /// A whole-number query parameter within `range`: nil when absent, a 422 naming it when
    /// it is not a whole number or out of range (so no caller's value reaches arithmetic
    /// unbounded).
    public func integerQuery(_ name: String, in range: ClosedRange<Int>) throws -> Int? {
        guard let raw = uri.queryParameters.get(name) else { return nil }
        guard raw.allSatisfy({ $0.isASCII && ($0.isNumber || $0 == "-") }), let value = Int(raw), range.contains(value) else {
            throw ProblemDetails.validation(field: name, "must be a whole number from \(range.lowerBound) to \(range.upperBound)")
        }
        return value
    }

    /// An id query parameter: nil when absent, a 422 naming it when it is not a UUID.
    public func idQuery(_ name: String) throws -> UUID? {
        guard let raw = uri.queryParameters.get(name) else { return nil }
        guard let id = EnvelopeReader.uuid(raw) else { throw ProblemDetails.validation(field: name, "must be a UUID") }
        return id
    }

    /// The `from` and `to` query parameters of a report: ISO 8601 date-times, `to` after
    /// `from`. What is wrong is added to `problems`, one entry per field; nil then.
    public func period(problems: inout [FieldProblem]) -> (from: Date, to: Date)? {
        let query = uri.queryParameters
        let from = query.get("from").flatMap(ISO8601.date)
        let to = query.get("to").flatMap(ISO8601.date)
        if from == nil { problems.append(.init(field: "from", message: "must be an ISO 8601 date-time")) }
        if to == nil { problems.append(.init(field: "to", message: "must be an ISO 8601 date-time")) }
        guard let from, let to else { return nil }
        guard to > from else {
            problems.append(.init(field: "to", message: "must be after from"))
            return nil
        }
        return (from, to)
    }
}

extension Parameters {
    /// A path parameter that must be a UUID: nil for anything else (hex digits in their
    /// places, as PostgreSQL would read it; Foundation's parser also takes a `+` or a stray `-`).
    public func id(_ name: String) -> UUID? {
        get(name).flatMap(EnvelopeReader.uuid)
    }
}

/// Dates and date-times as the API writes them, read strictly.
public enum ISO8601 {
    /// `2026-03-01T09:30:00Z`, with or without fractional seconds, with any offset, between
    /// 1900 and 2200 (`PlausibleDates`).
    public static func date(_ text: String) -> Date? {
        let plain = Date.ISO8601FormatStyle()
        let date = (try? Date(text, strategy: plain)) ?? (try? Date(text, strategy: plain.time(includingFractionalSeconds: true)))
        return date.flatMap { PlausibleDates.contains($0) ? $0 : nil }
    }

    /// A calendar day, `YYYY-MM-DD` with digits only (no sign, no spaces) and a real date
    /// between 1900 and 2100; nil otherwise.
    public static func day(_ text: String) -> (year: Int, month: Int, day: Int)? {
        let bytes = Array(text.utf8)
        guard bytes.count == 10, bytes[4] == UInt8(ascii: "-"), bytes[7] == UInt8(ascii: "-") else { return nil }
        func number(_ range: Range<Int>) -> Int? {
            var value = 0
            for byte in bytes[range] {
                guard (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) else { return nil }
                value = value * 10 + Int(byte - UInt8(ascii: "0"))
            }
            return value
        }
        guard let year = number(0..<4), let month = number(5..<7), let day = number(8..<10),
            (1900...2100).contains(year), (1...12).contains(month), day >= 1
        else { return nil }
        let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
        let lengths = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]
        return day <= lengths[month - 1] ? (year, month, day) : nil
    }
}
