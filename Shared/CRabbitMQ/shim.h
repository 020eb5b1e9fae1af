#ifndef AFTERCARE_CRABBITMQ_SHIM_H
#define AFTERCARE_CRABBITMQ_SHIM_H

// rabbitmq-c 0.11 (Debian 12) installs <amqp.h>; 0.12+ moves the headers to <rabbitmq-c/...>.
#if __has_include(<rabbitmq-c/amqp.h>)
#include <rabbitmq-c/amqp.h>
#include <rabbitmq-c/framing.h>
#include <rabbitmq-c/tcp_socket.h>
#include <rabbitmq-c/ssl_socket.h>
#else
#include <amqp.h>
#include <amqp_framing.h>
#include <amqp_tcp_socket.h>
#include <amqp_ssl_socket.h>
#endif

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/time.h>

// amqp_login_with_properties is variadic, which Swift cannot call: wrap it for PLAIN
// authentication. It also announces the connection.blocked capability (librabbitmq does
// not), so the broker tells this connection when a resource alarm stops it reading what it
// publishes. These client properties are merged with the library's own.
static inline amqp_rpc_reply_t aftercare_amqp_login_plain(amqp_connection_state_t state,
                                                          const char *vhost,
                                                          int channel_max,
                                                          int frame_max,
                                                          int heartbeat,
                                                          const char *user,
                                                          const char *password) {
    amqp_table_entry_t capability;
    capability.key = amqp_cstring_bytes("connection.blocked");
    capability.value.kind = AMQP_FIELD_KIND_BOOLEAN;
    capability.value.value.boolean = 1;
    amqp_table_entry_t property;
    property.key = amqp_cstring_bytes("capabilities");
    property.value.kind = AMQP_FIELD_KIND_TABLE;
    property.value.value.table.num_entries = 1;
    property.value.value.table.entries = &capability;
    amqp_table_t properties;
    properties.num_entries = 1;
    properties.entries = &property;
    return amqp_login_with_properties(state, vhost, channel_max, frame_max, heartbeat, &properties,
                                      AMQP_SASL_METHOD_PLAIN, user, password);
}

// A publish to a peer that stopped reading can block for ever; TCP_USER_TIMEOUT turns that
// into a socket error after the given time.
static inline int aftercare_set_tcp_user_timeout(int fd, unsigned int milliseconds) {
    return setsockopt(fd, IPPROTO_TCP, TCP_USER_TIMEOUT, &milliseconds, sizeof(milliseconds));
}

#endif
