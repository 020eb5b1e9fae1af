import CRabbitMQ

/// Method ids and flags that rabbitmq-c defines as cast macros, which Swift does not import.
enum AMQPMethod {
    static let connectionClose: amqp_method_number_t = 0x000A_0032
    static let connectionCloseOk: amqp_method_number_t = 0x000A_0033
    static let connectionBlocked: amqp_method_number_t = 0x000A_003C
    static let connectionUnblocked: amqp_method_number_t = 0x000A_003D
    static let channelClose: amqp_method_number_t = 0x0014_0028
    static let channelCloseOk: amqp_method_number_t = 0x0014_0029
    static let basicReturn: amqp_method_number_t = 0x003C_0032
    static let basicAck: amqp_method_number_t = 0x003C_0050
    static let basicNack: amqp_method_number_t = 0x003C_0078
    static let basicCancel: amqp_method_number_t = 0x003C_001E
    static let basicGetOk: amqp_method_number_t = 0x003C_0047
    static let basicGetEmpty: amqp_method_number_t = 0x003C_0048
}

/// Property flags straight from the C header (plain `1 << n` macros, which Swift imports).
enum AMQPPropertyFlag {
    static let contentType = amqp_flags_t(AMQP_BASIC_CONTENT_TYPE_FLAG)
    static let headers = amqp_flags_t(AMQP_BASIC_HEADERS_FLAG)
    static let deliveryMode = amqp_flags_t(AMQP_BASIC_DELIVERY_MODE_FLAG)
    static let correlationID = amqp_flags_t(AMQP_BASIC_CORRELATION_ID_FLAG)
    static let messageID = amqp_flags_t(AMQP_BASIC_MESSAGE_ID_FLAG)
    static let timestamp = amqp_flags_t(AMQP_BASIC_TIMESTAMP_FLAG)
    static let type = amqp_flags_t(AMQP_BASIC_TYPE_FLAG)
    static let appID = amqp_flags_t(AMQP_BASIC_APP_ID_FLAG)
}

enum AMQPFrameType {
    static let method: UInt8 = 1
}

/// The one channel each connection uses: Aftercare runs one connection per publisher or
/// consumer, because a librabbitmq connection belongs to a single thread.
let aftercareChannel: amqp_channel_t = 1
