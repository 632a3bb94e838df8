using System;
using System.Linq;
using System.Reflection;
using System.Runtime.InteropServices;
using Asyncop;
using NUnit.Framework;

namespace Asyncop.Tests
{
    /// <summary>The tables scripts/gen-bindings generates into Codes.g.cs agree with the loaded library, and every status
    /// code throws the family the one family table declares (tests/test_codes.py checks the Python side).</summary>
    [TestFixture]
    public class CodesTests
    {
        static readonly Type Native = typeof(AsyncOperationQueue).Assembly.GetType("Asyncop.NativeMethods", true);
        static readonly Type ErrorsType = typeof(AsyncOperationQueue).Assembly.GetType("Asyncop.Errors", true);
        static readonly Type InteropType = typeof(AsyncOperationQueue).Assembly.GetType("Asyncop.Interop", true);
        const BindingFlags Static = BindingFlags.Static | BindingFlags.NonPublic | BindingFlags.Public;

        static object Call(Type t, string name, params object[] args)
        {
            try { return t.GetMethod(name, Static).Invoke(null, args); }
            catch (TargetInvocationException e) { throw e.InnerException; }
        }

        static Exception Create(int rc) { return (Exception)Call(ErrorsType, "Create", rc, "m"); }

        [Test]
        public void EveryCodeHasTheLibrarysNameAndHResult()
        {
            AsyncOperationQueue.Open(System.IO.Path.GetTempFileName() + ".db").Dispose(); // loads and checks the library
            var codes = Enum.GetValues(typeof(AsyncopErrorCode)).Cast<AsyncopErrorCode>().ToList();
            Assert.GreaterOrEqual(codes.Count, 28);
            foreach (var code in codes)
            {
                string cName = (string)Call(ErrorsType, "CName", code);
                string native = Marshal.PtrToStringAnsi((IntPtr)Call(Native, "asyncop_status_name", (int)code));
                Assert.AreEqual(native, cName, code.ToString());
                Assert.AreEqual((int)Call(Native, "asyncop_status_hresult", (int)code), (int)Call(ErrorsType, "HResultOf", code), code.ToString());
            }
            Assert.AreEqual("unknown", Marshal.PtrToStringAnsi((IntPtr)Call(Native, "asyncop_status_name", 12345)));
        }

        [Test]
        public void EveryErrorCodeThrowsItsFamily()
        {
            foreach (AsyncopErrorCode code in Enum.GetValues(typeof(AsyncopErrorCode)))
            {
                if (code == AsyncopErrorCode.Ok) continue;
                var e = Create((int)code);
                string family = (string)Call(ErrorsType, "FamilyOf", code);
                Assert.IsNotNull(family, code.ToString());
                if (family == "Closed") { Assert.IsInstanceOf<ObjectDisposedException>(e); continue; }
                var ae = (AsyncopException)e;
                Assert.AreEqual(code, ae.Code);
                if ((int)code < 0) Assert.AreEqual((int)code, ae.HResult, code.ToString());
                string expected = family == "IO" ? "AsyncopIOException" : "Asyncop" + family + "Exception";
                Assert.AreEqual(expected, e.GetType().Name, code.ToString());
            }
        }

        [Test]
        public void TheThreeSettledFamilies()
        {
            // InvalidHandle is a caller error: the invalid-argument family, as Python's InvalidHandleError(InvalidArgumentError).
            Assert.IsInstanceOf<AsyncopInvalidHandleException>(Create((int)AsyncopErrorCode.InvalidHandle));
            Assert.IsInstanceOf<AsyncopInvalidArgumentException>(Create((int)AsyncopErrorCode.InvalidHandle));
            // BufferTooSmall and the reserved Callback never reach users from a correct wrapper: internal, as in Python.
            Assert.IsInstanceOf<AsyncopInternalException>(Create((int)AsyncopErrorCode.BufferTooSmall));
            Assert.IsInstanceOf<AsyncopInternalException>(Create((int)AsyncopErrorCode.Callback));
            // Unknown codes: negative is a (newer) HRESULT refusal, any other the base class.
            Assert.IsInstanceOf<AsyncopInvalidStateChangeException>(Create(-123));
            Assert.AreEqual(typeof(AsyncopException), Create(999).GetType());
            Assert.IsInstanceOf<ObjectDisposedException>(Create((int)AsyncopErrorCode.ClosedHandle));
        }

        [Test]
        public void AHandleOfAnotherTypeThrowsInvalidHandle()
        {
            var handleType = typeof(AsyncOperationQueue).Assembly.GetType("Asyncop.QueueHandle", true);
            var h = (SafeHandle)Activator.CreateInstance(handleType, true);
            typeof(SafeHandle).GetMethod("SetHandle", BindingFlags.Instance | BindingFlags.NonPublic).Invoke(h, new object[] { new IntPtr(0x7777) });
            try
            {
                var args = new object[] { h, 0L };
                int rc = (int)Native.GetMethod("asyncop_queue_now", Static).Invoke(null, args);
                Assert.AreEqual((int)AsyncopErrorCode.InvalidHandle, rc);
                var e = Assert.Throws<AsyncopInvalidHandleException>(() => Call(InteropType, "Check", rc));
                Assert.AreEqual(AsyncopErrorCode.InvalidHandle, e.Code);
                Assert.IsNotEmpty(e.Message);
            }
            finally { h.SetHandleAsInvalid(); }
        }
    }
}
