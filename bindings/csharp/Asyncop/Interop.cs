using System;
using System.Runtime.InteropServices;
using System.Text;

namespace Asyncop
{
    internal delegate int TextGetter(byte[] buf, UIntPtr cap, out UIntPtr len);
    internal delegate int OptionalTextGetter(byte[] buf, UIntPtr cap, out UIntPtr len, out int present);

    /// <summary>Marshalling helpers shared by the public types.</summary>
    internal static class Interop
    {
        internal static readonly UTF8Encoding StrictUtf8 = new UTF8Encoding(false, true);
        static readonly object LoadLock = new object();
        static volatile bool loaded;
        static readonly DateTime Epoch = new DateTime(1970, 1, 1, 0, 0, 0, DateTimeKind.Utc);

        /// <summary>Checks the ABI version once, on first use.</summary>
        internal static void EnsureLoaded()
        {
            if (loaded) return;
            lock (LoadLock)
            {
                if (loaded) return;
                uint abi;
                try { abi = NativeMethods.asyncop_abi_version(); }
                catch (DllNotFoundException e)
                {
                    throw new DllNotFoundException("cannot load libasyncop (the Asyncop package carries it in runtimes/linux-x64/native/ with Asyncop.dll.config for Mono; otherwise set LD_LIBRARY_PATH to the directory of libasyncop.so): " + e.Message, e);
                }
                if (abi != NativeMethods.AbiVersion)
                    throw new InvalidOperationException(string.Format("libasyncop has ABI version {0}, this wrapper needs {1}", abi, NativeMethods.AbiVersion));
                loaded = true;
            }
        }

        /// <summary>Reads the thread's last error message (size query, then copy).</summary>
        internal static string LastErrorMessage()
        {
            ulong size = NativeMethods.asyncop_last_error_message(null, UIntPtr.Zero).ToUInt64();
            if (size == 0) return string.Empty;
            var buf = new byte[size + 1];
            ulong n = NativeMethods.asyncop_last_error_message(buf, new UIntPtr((ulong)buf.Length)).ToUInt64();
            int len = (int)Math.Min(n, size);
            return Encoding.UTF8.GetString(buf, 0, len);
        }

        /// <summary>Throws the exception for a non-OK status, reading the message first.</summary>
        internal static void Check(int rc)
        {
            if (rc == 0) return;
            string message = LastErrorMessage();
            if (message.Length == 0) message = StatusName(rc);
            throw Errors.Create(rc, message);
        }

        internal static string StatusName(int code)
        {
            return PtrToUtf8(NativeMethods.asyncop_status_name(code));
        }

        internal static string PtrToUtf8(IntPtr p)
        {
            if (p == IntPtr.Zero) return null;
            int len = 0;
            while (Marshal.ReadByte(p, len) != 0) len++;
            var bytes = new byte[len];
            Marshal.Copy(p, bytes, 0, len);
            return Encoding.UTF8.GetString(bytes);
        }

        /// <summary>Encodes a required string as NUL-terminated UTF-8, refusing NUL and lone surrogates.</summary>
        internal static byte[] Utf8z(string s, string paramName)
        {
            if (s == null) throw new ArgumentNullException(paramName);
            return Utf8zOptional(s, paramName);
        }

        /// <summary>As Utf8z, with null passed through as NULL.</summary>
        internal static byte[] Utf8zOptional(string s, string paramName)
        {
            if (s == null) return null;
            if (s.IndexOf('\0') >= 0) throw new ArgumentException("the string contains a NUL character", paramName);
            byte[] bytes;
            try { bytes = StrictUtf8.GetBytes(s); }
            catch (EncoderFallbackException e) { throw new ArgumentException("the string is not valid UTF-16 (lone surrogate)", paramName, e); }
            var z = new byte[bytes.Length + 1];
            Buffer.BlockCopy(bytes, 0, z, 0, bytes.Length);
            return z;
        }

        internal static string ReadText(TextGetter get)
        {
            UIntPtr len;
            int rc = get(null, UIntPtr.Zero, out len);
            while (true)
            {
                if (rc == 0) return string.Empty;
                if (rc != (int)AsyncopErrorCode.BufferTooSmall) Check(rc);
                var buf = new byte[len.ToUInt64() + 1];
                rc = get(buf, new UIntPtr((ulong)buf.Length), out len);
                if (rc == 0) return Encoding.UTF8.GetString(buf, 0, (int)len.ToUInt64());
            }
        }

        internal static string ReadOptionalText(OptionalTextGetter get)
        {
            UIntPtr len; int present;
            int rc = get(null, UIntPtr.Zero, out len, out present);
            while (true)
            {
                if (rc == 0) return present != 0 ? string.Empty : null;
                if (rc != (int)AsyncopErrorCode.BufferTooSmall) Check(rc);
                var buf = new byte[len.ToUInt64() + 1];
                rc = get(buf, new UIntPtr((ulong)buf.Length), out len, out present);
                if (rc == 0) return present != 0 ? Encoding.UTF8.GetString(buf, 0, (int)len.ToUInt64()) : null;
            }
        }

        internal static byte[] ReadBytes(TextGetter get)
        {
            UIntPtr len;
            int rc = get(null, UIntPtr.Zero, out len);
            while (true)
            {
                if (rc == 0) return new byte[0];
                if (rc != (int)AsyncopErrorCode.BufferTooSmall) Check(rc);
                var buf = new byte[len.ToUInt64()];
                rc = get(buf, new UIntPtr((ulong)buf.Length), out len);
                if (rc == 0)
                {
                    if ((int)len.ToUInt64() == buf.Length) return buf;
                    var cut = new byte[(int)len.ToUInt64()];
                    Buffer.BlockCopy(buf, 0, cut, 0, cut.Length);
                    return cut;
                }
            }
        }

        internal static DateTime FromMs(long ms)
        {
            return Epoch.AddTicks(ms * TimeSpan.TicksPerMillisecond);
        }

        internal static DateTime? FromMs(long ms, int present)
        {
            if (present == 0) return null;
            return FromMs(ms);
        }

        /// <summary>An absolute time as UTC milliseconds since the Unix epoch, floored (as Python's datetime_ms). Local
        /// times are converted; Unspecified ones are refused, as Python refuses a naive datetime: which zone they mean is
        /// a guess.</summary>
        internal static long ToMs(DateTime t, string paramName)
        {
            if (t.Kind == DateTimeKind.Unspecified)
                throw new ArgumentException(paramName + " has DateTimeKind.Unspecified: give it a kind (DateTime.UtcNow, "
                    + "DateTime.SpecifyKind(t, DateTimeKind.Utc) or t.ToUniversalTime())", paramName);
            if (t.Kind == DateTimeKind.Local) t = t.ToUniversalTime();
            long ticks = t.Ticks - Epoch.Ticks;
            long ms = ticks / TimeSpan.TicksPerMillisecond;
            if (ticks % TimeSpan.TicksPerMillisecond < 0) ms--;
            return ms;
        }

        internal static long ToMs(DateTime? t, string paramName)
        {
            return t.HasValue ? ToMs(t.Value, paramName) : NativeMethods.TimeNone;
        }

        /// <summary>A duration as whole milliseconds, rounded up, so a positive duration never becomes 0 (0.4 ms -> 1,
        /// 1.0 ms -> 1, 1.2 ms -> 2), exactly as Python's duration_ms. A negative duration is refused before any native
        /// call (no C function takes one). Every TimeSpan that goes to the ABI passes through here.</summary>
        internal static long DurationMs(TimeSpan span, string paramName)
        {
            if (span < TimeSpan.Zero)
                throw new ArgumentOutOfRangeException(paramName, span, paramName + " must not be negative");
            long ticks = span.Ticks;
            long ms = ticks / TimeSpan.TicksPerMillisecond;
            if (ticks % TimeSpan.TicksPerMillisecond != 0) ms++;
            return ms;
        }

        internal static void CheckId(long id, string paramName)
        {
            if (id <= 0) throw new ArgumentOutOfRangeException(paramName, id, "operation ids are > 0");
        }
    }
}
