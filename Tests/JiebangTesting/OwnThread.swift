import Foundation

/// Runs `body`, which blocks (on sockets, say), on a thread of its own and returns what it returns.
///
/// On the cooperative pool (two threads on two CPUs) two tests blocked at once would leave no thread for
/// the server's handlers, whose answers they wait for, until their own timeouts.
public func onOwnThread<Value: Sendable>(_ body: @escaping @Sendable () throws -> Value) async throws -> Value {
    try await withCheckedThrowingContinuation { continuation in
        Thread.detachNewThread { continuation.resume(with: Result { try body() }) }
    }
}
