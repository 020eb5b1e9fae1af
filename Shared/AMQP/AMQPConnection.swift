import CRabbitMQ
import Foundation

/// Owns one librabbitmq connection with one open channel. Not thread-safe and every call
/// blocks: it lives on exactly one `AMQPWorker` thread and is never touched from elsewhere.
final class AMQPConnection {
    private let state: amqp_connection_state_t
    /// Set once the socket or protocol failed: closing politely would only block.
    private(set) var isBroken = false
    private var nextPublishTag: UInt64 = 1
    /// Told of the broker's word on a resource alarm (connection.blocked / unblocked): while
    /// blocked, what this connection publishes is not read and its confirms do not come.
    var onBlockedChange: (@Sendable (Bool) -> Void)?

    init(settings: AMQPSettings, connectionName: String) throws {
        guard let state = amqp_new_connection() else { throw AMQPError.connectFailed("out of memory") }
        self.state = state
        do {
            try open(settings)
        } catch {
            isBroken = true
            throw error
        }
    }

    deinit {
        if !isBroken {
            _ = amqp_channel_close(state, aftercareChannel, Int32(AMQP_REPLY_SUCCESS))
            _ = amqp_connection_close(state, Int32(AMQP_REPLY_SUCCESS))
        }
        amqp_destroy_connection(state)
    }

    private func open(_ settings: AMQPSettings) throws {
        let socket = settings.useTLS ? amqp_ssl_socket_new(state) : amqp_tcp_socket_new(state)
        guard let socket else { throw AMQPError.connectFailed("could not create a socket") }
        if settings.useTLS {
            amqp_ssl_socket_set_verify_peer(socket, 1)
            amqp_ssl_socket_set_verify_hostname(socket, 1)
            if let path = settings.caCertificatePath {
                let status = amqp_ssl_socket_set_cacert(socket, path)
                guard status == AMQP_STATUS_OK.rawValue else {
                    throw AMQPError.connectFailed("cannot read CA certificate: \(Self.message(for: status))")
                }
            }
        }
        var connectTimeout = timeval(tv_sec: settings.connectTimeoutSeconds, tv_usec: 0)
        let status = amqp_socket_open_noblock(socket, settings.host, Int32(settings.port), &connectTimeout)
        guard status == AMQP_STATUS_OK.rawValue else {
            throw AMQPError.connectFailed("\(settings.host):\(settings.port): \(Self.message(for: status))")
        }
        guard aftercare_set_tcp_user_timeout(amqp_socket_get_sockfd(socket), settings.tcpUserTimeoutMilliseconds) == 0 else {
            throw AMQPError.connectFailed("setsockopt(TCP_USER_TIMEOUT): \(String(cString: strerror(errno)))")
        }
        var rpcTimeout = timeval(tv_sec: settings.rpcTimeoutSeconds, tv_usec: 0)
        let timeoutStatus = amqp_set_rpc_timeout(state, &rpcTimeout)
        guard timeoutStatus == AMQP_STATUS_OK.rawValue else { throw fail("amqp_set_rpc_timeout", timeoutStatus) }

        // Announces connection.blocked, so the broker says when a resource alarm stops it
        // reading what this connection publishes (see `isBlocked`).
        try check(
            aftercare_amqp_login_plain(
                state,
                settings.virtualHost,
                0,
                131_072,
                Int32(settings.heartbeatSeconds),
                settings.user,
                settings.password
            ),
            "login"
        )
        _ = amqp_channel_open(state, aftercareChannel)
        try check(amqp_get_rpc_reply(state), "channel.open")
    }

    // MARK: Setup

    func declare(_ topology: AMQPTopology) throws {
        for exchange in topology.exchanges {
            let arena = CAllocations()
            let passive: amqp_boolean_t = exchange.passive ? 1 : 0
            _ = amqp_exchange_declare(
                state,
                aftercareChannel,
                arena.bytes(exchange.name),
                arena.bytes(exchange.type),
                passive,
                1,
                0,
                0,
                amqp_empty_table
            )
            try check(amqp_get_rpc_reply(state), "exchange.declare \(exchange.passive ? "passive " : "")\(exchange.name)")
        }
        for queue in topology.queues {
            let arena = CAllocations()
            _ = amqp_queue_declare(state, aftercareChannel, arena.bytes(queue.name), 0, 1, 0, 0, arena.table(queue.arguments))
            try check(amqp_get_rpc_reply(state), "queue.declare \(queue.name)")
        }
        for binding in topology.bindings {
            let arena = CAllocations()
            _ = amqp_queue_bind(
                state,
                aftercareChannel,
                arena.bytes(binding.queue),
                arena.bytes(binding.exchange),
                arena.bytes(binding.routingKey),
                amqp_empty_table
            )
            try check(amqp_get_rpc_reply(state), "queue.bind \(binding.queue) \(binding.routingKey)")
        }
    }

    func enablePublisherConfirms() throws {
        _ = amqp_confirm_select(state, aftercareChannel)
        try check(amqp_get_rpc_reply(state), "confirm.select")
        nextPublishTag = 1
    }

    func startConsuming(queue: String, prefetch: UInt16) throws {
        _ = amqp_basic_qos(state, aftercareChannel, 0, prefetch, 0)
        try check(amqp_get_rpc_reply(state), "basic.qos")
        let arena = CAllocations()
        _ = amqp_basic_consume(state, aftercareChannel, arena.bytes(queue), amqp_empty_bytes, 0, 0, 0, amqp_empty_table)
        try check(amqp_get_rpc_reply(state), "basic.consume \(queue)")
    }

    // MARK: Publishing

    /// Sends one persistent, mandatory message and returns its confirm tag.
    func publish(_ message: AMQPOutgoingMessage) throws -> UInt64 {
        let arena = CAllocations()
        var properties = amqp_basic_properties_t()
        properties._flags = AMQPPropertyFlag.contentType | AMQPPropertyFlag.deliveryMode | AMQPPropertyFlag.messageID
        properties.content_type = arena.bytes("application/json")
        properties.delivery_mode = 2  // persistent
        properties.message_id = arena.bytes(message.messageID)
        if let type = message.type {
            properties._flags |= AMQPPropertyFlag.type
            properties.type = arena.bytes(type)
        }
        if let correlationID = message.correlationID {
            properties._flags |= AMQPPropertyFlag.correlationID
            properties.correlation_id = arena.bytes(correlationID)
        }
        if let appID = message.appID {
            properties._flags |= AMQPPropertyFlag.appID
            properties.app_id = arena.bytes(appID)
        }
        if let timestamp = message.timestamp {
            properties._flags |= AMQPPropertyFlag.timestamp
            properties.timestamp = UInt64(max(0, timestamp.timeIntervalSince1970))
        }
        if !message.headers.isEmpty {
            properties._flags |= AMQPPropertyFlag.headers
            properties.headers = arena.table(message.headers)
        }
        let status = amqp_basic_publish(
            state,
            aftercareChannel,
            arena.bytes(message.exchange),
            arena.bytes(message.routingKey),
            1,
            0,
            &properties,
            arena.bytes(message.body)
        )
        guard status == AMQP_STATUS_OK.rawValue else { throw fail("basic.publish", status) }
        defer { nextPublishTag += 1 }
        return nextPublishTag
    }

    /// Reads broker frames until every tag in `pending` is acked or nacked. Unroutable
    /// messages come back as basic.return (before their ack) and are reported by message id.
    func awaitConfirms(
        for pending: Set<UInt64>,
        timeout: Duration
    ) throws -> (nacked: Set<UInt64>, returnedMessageIDs: Set<String>) {
        var outstanding = pending
        var nacked = Set<UInt64>()
        var returned = Set<String>()
        // A "multiple" confirm settles every tag up to its own. Walking the tags in order from
        // the lowest still open settles each once: the broker often confirms one at a time,
        // and filtering the whole set per confirm made a batch of 1,000 cost a million steps.
        let ordered = pending.sorted()
        var lowest = 0
        func settle(upTo tag: UInt64, nack: Bool) {
            while lowest < ordered.count, ordered[lowest] <= tag {
                if outstanding.remove(ordered[lowest]) != nil, nack { nacked.insert(ordered[lowest]) }
                lowest += 1
            }
        }
        let deadline = ContinuousClock.now + timeout
        while !outstanding.isEmpty {
            let remaining = deadline - ContinuousClock.now
            guard remaining > .zero else { throw AMQPError.confirmTimeout }
            guard let frame = try nextFrame(timeout: remaining) else { continue }
            switch frame.payload.method.id {
            case AMQPMethod.basicAck:
                let ack = frame.payload.method.decoded.assumingMemoryBound(to: amqp_basic_ack_t.self).pointee
                if ack.multiple != 0 { settle(upTo: ack.delivery_tag, nack: false) } else { outstanding.remove(ack.delivery_tag) }
            case AMQPMethod.basicNack:
                let nack = frame.payload.method.decoded.assumingMemoryBound(to: amqp_basic_nack_t.self).pointee
                if nack.multiple != 0 {
                    settle(upTo: nack.delivery_tag, nack: true)
                } else if outstanding.remove(nack.delivery_tag) != nil {
                    nacked.insert(nack.delivery_tag)
                }
            case AMQPMethod.basicReturn:
                var message = amqp_message_t()
                try check(amqp_read_message(state, frame.channel, &message, 0), "read returned message")
                if message.properties._flags & AMQPPropertyFlag.messageID != 0 {
                    returned.insert(message.properties.message_id.string)
                }
                amqp_destroy_message(&message)
            default:
                try handleUnsolicited(frame)
            }
        }
        return (nacked, returned)
    }

    /// Lets the library send and receive heartbeats while nothing else happens.
    func serviceHeartbeats() throws {
        amqp_maybe_release_buffers(state)
        while let frame = try nextFrame(timeout: .zero) {
            try handleUnsolicited(frame)
        }
    }

    // MARK: Consuming

    /// Waits up to `timeout` for a delivery; nil when none came.
    func nextDelivery(timeout: Duration, generation: Int) throws -> AMQPDelivery? {
        amqp_maybe_release_buffers(state)
        var envelope = amqp_envelope_t()
        var wait = Self.makeTimeval(timeout)
        let reply = amqp_consume_message(state, &envelope, &wait, 0)
        if reply.reply_type == AMQP_RESPONSE_NORMAL {
            defer { amqp_destroy_envelope(&envelope) }
            return Self.delivery(
                envelope.message,
                tag: envelope.delivery_tag,
                generation: generation,
                exchange: envelope.exchange,
                routingKey: envelope.routing_key,
                redelivered: envelope.redelivered != 0
            )
        }
        if reply.reply_type == AMQP_RESPONSE_LIBRARY_EXCEPTION {
            if reply.library_error == AMQP_STATUS_TIMEOUT.rawValue { return nil }
            if reply.library_error == AMQP_STATUS_UNEXPECTED_STATE.rawValue {
                // A method frame other than basic.deliver is waiting: read it and act on it.
                if let frame = try nextFrame(timeout: .zero) { try handleUnsolicited(frame) }
                return nil
            }
        }
        try check(reply, "basic.consume")
        return nil
    }

    /// Acknowledges one delivery, or with `multiple` every outstanding one up to it.
    func acknowledge(_ deliveryTag: UInt64, multiple: Bool = false) throws {
        let status = amqp_basic_ack(state, aftercareChannel, deliveryTag, multiple ? 1 : 0)
        guard status == AMQP_STATUS_OK.rawValue else { throw fail("basic.ack", status) }
    }

    func reject(_ deliveryTag: UInt64, requeue: Bool) throws {
        let status = amqp_basic_reject(state, aftercareChannel, deliveryTag, requeue ? 1 : 0)
        guard status == AMQP_STATUS_OK.rawValue else { throw fail("basic.reject", status) }
    }

    /// Takes one message without a consumer (basic.get); nil when the queue is empty.
    func get(queue: String, generation: Int) throws -> AMQPDelivery? {
        amqp_maybe_release_buffers(state)
        let arena = CAllocations()
        let reply = amqp_basic_get(state, aftercareChannel, arena.bytes(queue), 0)
        try check(reply, "basic.get \(queue)")
        guard reply.reply.id == AMQPMethod.basicGetOk else { return nil }
        let getOk = reply.reply.decoded.assumingMemoryBound(to: amqp_basic_get_ok_t.self).pointee
        var message = amqp_message_t()
        try check(amqp_read_message(state, aftercareChannel, &message, 0), "read message \(queue)")
        defer { amqp_destroy_message(&message) }
        return Self.delivery(
            message,
            tag: getOk.delivery_tag,
            generation: generation,
            exchange: getOk.exchange,
            routingKey: getOk.routing_key,
            redelivered: getOk.redelivered != 0
        )
    }

    /// Copies a received message out of the library's buffers.
    private static func delivery(
        _ message: amqp_message_t,
        tag: UInt64,
        generation: Int,
        exchange: amqp_bytes_t,
        routingKey: amqp_bytes_t,
        redelivered: Bool
    ) -> AMQPDelivery {
        let properties = message.properties
        let flags = properties._flags
        return AMQPDelivery(
            deliveryTag: tag,
            connectionGeneration: generation,
            exchange: exchange.string,
            routingKey: routingKey.string,
            redelivered: redelivered,
            body: message.body.array,
            messageID: flags & AMQPPropertyFlag.messageID != 0 ? properties.message_id.string : nil,
            type: flags & AMQPPropertyFlag.type != 0 ? properties.type.string : nil,
            correlationID: flags & AMQPPropertyFlag.correlationID != 0 ? properties.correlation_id.string : nil,
            appID: flags & AMQPPropertyFlag.appID != 0 ? properties.app_id.string : nil,
            headers: flags & AMQPPropertyFlag.headers != 0 ? properties.headers.fields : [:]
        )
    }

    /// Number of messages ready in a queue (passive declare): for tests and operators.
    func messageCount(queue: String) throws -> UInt32 {
        let arena = CAllocations()
        guard let ok = amqp_queue_declare(state, aftercareChannel, arena.bytes(queue), 1, 0, 0, 0, amqp_empty_table) else {
            try check(amqp_get_rpc_reply(state), "queue.declare passive \(queue)")
            return 0
        }
        return ok.pointee.message_count
    }

    func deleteQueue(_ queue: String) throws {
        let arena = CAllocations()
        _ = amqp_queue_delete(state, aftercareChannel, arena.bytes(queue), 0, 0)
        try check(amqp_get_rpc_reply(state), "queue.delete \(queue)")
    }

    // MARK: Frames and errors

    private func nextFrame(timeout: Duration) throws -> amqp_frame_t? {
        var frame = amqp_frame_t()
        var wait = Self.makeTimeval(timeout)
        let status = amqp_simple_wait_frame_noblock(state, &frame, &wait)
        if status == AMQP_STATUS_TIMEOUT.rawValue { return nil }
        guard status == AMQP_STATUS_OK.rawValue else { throw fail("wait for frame", status) }
        return frame.frame_type == AMQPFrameType.method ? frame : nil
    }

    /// A frame nobody asked for: a close from the broker ends this connection.
    private func handleUnsolicited(_ frame: amqp_frame_t) throws {
        switch frame.payload.method.id {
        case AMQPMethod.connectionClose:
            let close = frame.payload.method.decoded.assumingMemoryBound(to: amqp_connection_close_t.self).pointee
            var ok = amqp_connection_close_ok_t(dummy: 0)
            _ = amqp_send_method(state, 0, AMQPMethod.connectionCloseOk, &ok)
            isBroken = true
            throw AMQPError.connectionClosed(code: close.reply_code, text: close.reply_text.string)
        case AMQPMethod.channelClose:
            let close = frame.payload.method.decoded.assumingMemoryBound(to: amqp_channel_close_t.self).pointee
            var ok = amqp_channel_close_ok_t(dummy: 0)
            _ = amqp_send_method(state, frame.channel, AMQPMethod.channelCloseOk, &ok)
            // One channel per connection: without it the connection is of no use.
            isBroken = true
            throw AMQPError.channelClosed(code: close.reply_code, text: close.reply_text.string)
        case AMQPMethod.basicCancel:
            isBroken = true
            throw AMQPError.consumerCancelled
        case AMQPMethod.connectionBlocked:
            onBlockedChange?(true)
        case AMQPMethod.connectionUnblocked:
            onBlockedChange?(false)
        default:
            return  // late confirms of an abandoned batch and the like carry no news
        }
    }

    private func check(_ reply: amqp_rpc_reply_t, _ operation: String) throws {
        switch reply.reply_type {
        case AMQP_RESPONSE_NORMAL:
            return
        case AMQP_RESPONSE_SERVER_EXCEPTION:
            isBroken = true
            if reply.reply.id == AMQPMethod.connectionClose {
                let close = reply.reply.decoded.assumingMemoryBound(to: amqp_connection_close_t.self).pointee
                throw AMQPError.connectionClosed(code: close.reply_code, text: "\(operation): \(close.reply_text.string)")
            }
            if reply.reply.id == AMQPMethod.channelClose {
                let close = reply.reply.decoded.assumingMemoryBound(to: amqp_channel_close_t.self).pointee
                throw AMQPError.channelClosed(code: close.reply_code, text: "\(operation): \(close.reply_text.string)")
            }
            throw AMQPError.library(operation: operation, code: -1, message: "unexpected server method \(reply.reply.id)")
        case AMQP_RESPONSE_LIBRARY_EXCEPTION:
            throw fail(operation, reply.library_error)
        default:
            isBroken = true
            throw AMQPError.library(operation: operation, code: -1, message: "no reply")
        }
    }

    private func fail(_ operation: String, _ status: Int32) -> AMQPError {
        isBroken = true
        return .library(operation: operation, code: status, message: Self.message(for: status))
    }

    private static func message(for status: Int32) -> String {
        guard let text = amqp_error_string2(status) else { return "unknown error" }
        return String(cString: text)
    }

    private static func makeTimeval(_ duration: Duration) -> Foundation.timeval {
        let (seconds, attoseconds) = duration.components
        return Foundation.timeval(tv_sec: Int(max(0, seconds)), tv_usec: Int(max(0, attoseconds / 1_000_000_000_000)))
    }
}
