using System;
using System.Collections.Generic;

namespace Asyncop
{
    /// <summary>How a kept attempt ended (ASYNCOP_ENDING_*).</summary>
    public enum AttemptEnding
    {
        /// <summary>The host reported a retryable failure (a retry followed unless the budget was spent).</summary>
        Retry = NativeMethods.EndingRetry,
        /// <summary>The host reported a permanent failure.</summary>
        Failed = NativeMethods.EndingFailed,
        /// <summary>The lease expired before the host reported.</summary>
        Expired = NativeMethods.EndingExpired,
    }

    /// <summary>One attempt that ended in an error (a Retry or Failed report, or a lease expiry), from
    /// <see cref="AsyncOperationQueue.Attempts"/>. A later success does not erase it; the newest
    /// <see cref="AsyncOperationQueue.AttemptsKept"/> are kept per operation.</summary>
    public sealed class OperationAttempt
    {
        OperationAttempt() { }

        /// <summary>The operation.</summary>
        public long OperationId { get; private set; }
        /// <summary>The lock token of the attempt's claim (one per attempt).</summary>
        public long LockToken { get; private set; }
        /// <summary>How it ended.</summary>
        public AttemptEnding Ending { get; private set; }
        /// <summary>When it was claimed (UTC), or null.</summary>
        public DateTime? StartedOn { get; private set; }
        /// <summary>When it ended (UTC): the report, or the recovery of the expired lease.</summary>
        public DateTime EndedOn { get; private set; }
        /// <summary>The host that ran it, or null.</summary>
        public string HostId { get; private set; }
        /// <summary>The reported error code (LeaseLost for an expiry), or null.</summary>
        public int? ErrorCode { get; private set; }
        /// <summary>The reported message, or null.</summary>
        public string Message { get; private set; }
        /// <summary>The reported detail, e.g. the exception's ToString(), or null.</summary>
        public string Detail { get; private set; }

        internal static IList<OperationAttempt> FromList(AttemptListHandle list, long operationId)
        {
            UIntPtr count;
            Interop.Check(NativeMethods.asyncop_attempt_list_count(list, out count));
            var result = new List<OperationAttempt>((int)count.ToUInt64());
            for (ulong i = 0; i < count.ToUInt64(); i++)
            {
                var at = new UIntPtr(i);
                long token, started, ended; int ending, startedPresent, code, codePresent;
                Interop.Check(NativeMethods.asyncop_attempt_list_get(list, at, out token, out ending, out started, out startedPresent, out ended));
                Interop.Check(NativeMethods.asyncop_attempt_list_error_code(list, at, out code, out codePresent));
                result.Add(new OperationAttempt
                {
                    OperationId = operationId,
                    LockToken = token,
                    Ending = (AttemptEnding)ending,
                    StartedOn = Interop.FromMs(started, startedPresent),
                    EndedOn = Interop.FromMs(ended),
                    ErrorCode = codePresent != 0 ? (int?)code : null,
                    HostId = Interop.ReadOptionalText((byte[] b, UIntPtr c, out UIntPtr n, out int p) => NativeMethods.asyncop_attempt_list_host_id(list, at, b, c, out n, out p)),
                    Message = Interop.ReadOptionalText((byte[] b, UIntPtr c, out UIntPtr n, out int p) => NativeMethods.asyncop_attempt_list_message(list, at, b, c, out n, out p)),
                    Detail = Interop.ReadOptionalText((byte[] b, UIntPtr c, out UIntPtr n, out int p) => NativeMethods.asyncop_attempt_list_detail(list, at, b, c, out n, out p)),
                });
            }
            return result;
        }

        /// <summary>A readable form.</summary>
        public override string ToString()
        {
            return string.Format("attempt {0} of operation {1} on {2}: {3} ({4})", LockToken, OperationId, HostId, Ending, Message);
        }
    }

    /// <summary>The attempt history and its limits.</summary>
    public sealed partial class AsyncOperationQueue
    {
        /// <summary>How many attempts that ended in an error each operation keeps (the newest; ASYNCOP_ATTEMPTS_KEPT).</summary>
        public const int AttemptsKept = NativeMethods.AttemptsKept;
        /// <summary>The largest output a completion may store, in bytes (ASYNCOP_OUTPUT_MAX_BYTES).</summary>
        public const int OutputMaxBytes = NativeMethods.OutputMaxBytes;
        /// <summary>The longest progress text, in characters (ASYNCOP_PROGRESS_TEXT_MAX_CHARS).</summary>
        public const int ProgressTextMaxChars = NativeMethods.ProgressTextMaxChars;

        /// <summary>The attempts of operation <paramref name="id"/> that ended in an error (a Retry or Failed report,
        /// or a lease expiry), oldest first: at most <see cref="AttemptsKept"/>, the newest. A later success does
        /// not erase them; deleting the operation does. Throws AsyncopNotFoundException for an unknown id.</summary>
        public IList<OperationAttempt> Attempts(long id)
        {
            Interop.CheckId(id, "id");
            AttemptListHandle list;
            Interop.Check(NativeMethods.asyncop_queue_attempts(Handle, id, out list));
            using (list) return OperationAttempt.FromList(list, id);
        }
    }
}
