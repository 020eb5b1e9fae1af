import CRabbitMQ
import Foundation

/// Owns C copies of Swift strings, byte arrays and field tables for the length of one
/// librabbitmq call. `amqp_cstring_bytes` would point at a Swift temporary, so everything is
/// copied into malloc'd memory and freed together when the arena is released.
final class CAllocations {
    private var pointers: [UnsafeMutableRawPointer] = []

    deinit {
        for pointer in pointers { free(pointer) }
    }

    func bytes(_ string: String) -> amqp_bytes_t {
        bytes(Array(string.utf8))
    }

    func bytes(_ array: [UInt8]) -> amqp_bytes_t {
        guard !array.isEmpty, let memory = malloc(array.count) else { return amqp_empty_bytes }
        pointers.append(memory)
        array.withUnsafeBytes { source in
            if let base = source.baseAddress { memory.copyMemory(from: base, byteCount: array.count) }
        }
        return amqp_bytes_t(len: array.count, bytes: memory)
    }

    func cString(_ string: String) -> UnsafePointer<CChar> {
        let copy = strdup(string)!
        pointers.append(UnsafeMutableRawPointer(copy))
        return UnsafePointer(copy)
    }

    func table(_ fields: [String: AMQPFieldValue]) -> amqp_table_t {
        guard !fields.isEmpty,
            let memory = malloc(MemoryLayout<amqp_table_entry_t>.stride * fields.count)
        else { return amqp_empty_table }
        pointers.append(memory)
        let entries = memory.bindMemory(to: amqp_table_entry_t.self, capacity: fields.count)
        for (index, (key, value)) in fields.sorted(by: { $0.key < $1.key }).enumerated() {
            var field = amqp_field_value_t()
            switch value {
            case .string(let text):
                field.kind = UInt8(AMQP_FIELD_KIND_UTF8.rawValue)
                field.value.bytes = bytes(text)
            case .int(let number):
                field.kind = UInt8(AMQP_FIELD_KIND_I64.rawValue)
                field.value.i64 = number
            case .bool(let flag):
                field.kind = UInt8(AMQP_FIELD_KIND_BOOLEAN.rawValue)
                field.value.boolean = flag ? 1 : 0
            }
            (entries + index).initialize(to: amqp_table_entry_t(key: bytes(key), value: field))
        }
        return amqp_table_t(num_entries: Int32(fields.count), entries: entries)
    }
}

extension amqp_bytes_t {
    /// Copies the bytes out of library-owned memory.
    var array: [UInt8] {
        guard len > 0, let bytes else { return [] }
        return Array(UnsafeRawBufferPointer(start: bytes, count: len))
    }

    var string: String { String(decoding: array, as: UTF8.self) }
}

extension amqp_table_t {
    /// Reads the header kinds Aftercare writes (and the integer kinds the broker adds).
    var fields: [String: AMQPFieldValue] {
        guard num_entries > 0, let entries else { return [:] }
        var result: [String: AMQPFieldValue] = [:]
        for index in 0..<Int(num_entries) {
            let entry = entries[index]
            let value = entry.value
            let kind = UInt32(value.kind)
            switch kind {
            case AMQP_FIELD_KIND_UTF8.rawValue, AMQP_FIELD_KIND_BYTES.rawValue:
                result[entry.key.string] = .string(value.value.bytes.string)
            case AMQP_FIELD_KIND_I64.rawValue: result[entry.key.string] = .int(value.value.i64)
            case AMQP_FIELD_KIND_U64.rawValue, AMQP_FIELD_KIND_TIMESTAMP.rawValue:
                result[entry.key.string] = .int(Int64(truncatingIfNeeded: value.value.u64))
            case AMQP_FIELD_KIND_I32.rawValue: result[entry.key.string] = .int(Int64(value.value.i32))
            case AMQP_FIELD_KIND_U32.rawValue: result[entry.key.string] = .int(Int64(value.value.u32))
            case AMQP_FIELD_KIND_I16.rawValue: result[entry.key.string] = .int(Int64(value.value.i16))
            case AMQP_FIELD_KIND_U16.rawValue: result[entry.key.string] = .int(Int64(value.value.u16))
            case AMQP_FIELD_KIND_I8.rawValue: result[entry.key.string] = .int(Int64(value.value.i8))
            case AMQP_FIELD_KIND_U8.rawValue: result[entry.key.string] = .int(Int64(value.value.u8))
            case AMQP_FIELD_KIND_BOOLEAN.rawValue: result[entry.key.string] = .bool(value.value.boolean != 0)
            default: continue  // arrays and nested tables (e.g. x-death) are not used by Aftercare
            }
        }
        return result
    }
}
