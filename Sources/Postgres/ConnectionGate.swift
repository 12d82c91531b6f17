import Synchronization

/// Lets one task at a time use a connection; the others wait their turn in arrival order.
///
/// A connection runs one statement at a time, but Swift lets two child tasks (`async let`) share
/// one: without a gate the second statement would overwrite the first one's continuation and one
/// task would wait forever. The uncontended path is one lock, no allocation.
final class ConnectionGate: Sendable {
    private struct Waiter {
        let id: UInt64
        let continuation: CheckedContinuation<Void, any Error>
    }

    private struct State {
        var held = false
        var waiters: [Waiter] = []
        var nextID: UInt64 = 0
    }

    private let state = Mutex(State())

    init() {}

    /// Waits until the gate is free and takes it.
    /// - Parameter cancellable: whether a cancelled task stops waiting (a rollback waits regardless).
    /// - Throws: `CancellationError` when the task is cancelled while it waits (only if `cancellable`).
    func enter(cancellable: Bool = true) async throws {
        let entered = state.withLock { state -> Bool in
            guard !state.held else { return false }
            state.held = true
            return true
        }
        if entered { return }
        let id = state.withLock { state -> UInt64 in
            state.nextID += 1
            return state.nextID
        }
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                enum Decision { case enter, cancelled, wait }
                let decision = state.withLock { state -> Decision in
                    guard state.held else {
                        state.held = true
                        return .enter
                    }
                    // A task cancelled before it got here would miss its cancellation handler.
                    if cancellable && Task.isCancelled { return .cancelled }
                    state.waiters.append(Waiter(id: id, continuation: continuation))
                    return .wait
                }
                switch decision {
                case .enter: continuation.resume()
                case .cancelled: continuation.resume(throwing: CancellationError())
                case .wait: break
                }
            }
        } onCancel: {
            guard cancellable else { return }
            let waiter = state.withLock { state -> Waiter? in
                guard let index = state.waiters.firstIndex(where: { $0.id == id }) else { return nil }
                return state.waiters.remove(at: index)
            }
            waiter?.continuation.resume(throwing: CancellationError())
        }
    }

    /// Frees the gate, handing it straight to the first waiter if there is one.
    func leave() {
        let next = state.withLock { state -> Waiter? in
            guard !state.waiters.isEmpty else {
                state.held = false
                return nil
            }
            return state.waiters.removeFirst()
        }
        next?.continuation.resume()
    }

    /// Runs `body` holding the gate.
    func run<Result>(cancellable: Bool = true, _ body: () async throws -> Result) async throws -> Result {
        try await enter(cancellable: cancellable)
        defer { leave() }
        return try await body()
    }
}
