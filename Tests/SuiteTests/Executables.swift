import Testing

/// The suites that start the service executables, one at a time. They share the test
/// profile's real databases and queues, and some delete the queues when they are done (or
/// later runs would find them full): a queue deleted under another suite's running services
/// drops the events published to it before they declare it again.
@Suite("The executables, one suite at a time", .serialized)
enum Executables {}
