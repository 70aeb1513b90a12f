package lb.dataplane.io;

import jnr.ffi.LibraryLoader;
import jnr.ffi.Pointer;
import jnr.ffi.annotations.SaveError;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.EnumSource;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;

import static lb.dataplane.io.TestFrames.*;
import static org.junit.jupiter.api.Assertions.*;

/**
 * Packet sockets on a real veth pair between two test namespaces: A (a0) and B (b0).
 */
class PacketSocketTest
{
    private static final String MAC_A_TEXT = "02:00:00:00:0a:01";
    private static final String MAC_B_TEXT = "02:00:00:00:0b:01";
    private static final long MAC_A = mac(MAC_A_TEXT);
    private static final long MAC_B = mac(MAC_B_TEXT);
    private static final long WAIT_MS = 5_000;

    private static TestNetwork net;
    private static String nsA;
    private static String nsB;

    @BeforeAll
    static void createNetwork()
    {
        net = TestNetwork.create();
        nsA = net.namespace("a");
        nsB = net.namespace("b");
        net.veth(nsA, "a0", MAC_A_TEXT, nsB, "b0", MAC_B_TEXT);
        net.veth(nsA, "a1", "02:00:00:00:0a:02", nsB, "b1", "02:00:00:00:0b:02");
        // A third pair inside B, left down.
        net.exec(nsB, TestNetwork.IP, "link", "add", "d0", "type", "veth", "peer", "name", "d1");
    }

    @AfterAll
    static void deleteNetwork()
    {
        if (null != net)
        {
            net.close();
        }
    }

    @Test
    void lookupReportsIndexMacMtuAndFlags()
    {
        final InterfaceInfo b0 = NetNs.call(nsB, () -> InterfaceInfo.lookup("b0"));
        final String shown = net.exec(nsB, TestNetwork.IP, "-o", "link", "show", "b0");

        assertEquals(Integer.parseInt(shown.substring(0, shown.indexOf(':'))), b0.index());
        assertEquals(MAC_B, b0.mac());
        assertEquals(MAC_B_TEXT, InterfaceInfo.formatMac(b0.mac()));
        assertEquals(1500, b0.mtu());
        assertTrue(b0.isEthernet());
        assertTrue(b0.isUp());
        assertTrue(b0.isRunning());

        final InterfaceInfo d0 = NetNs.call(nsB, () -> InterfaceInfo.lookup("d0"));
        assertFalse(d0.isUp());
        assertFalse(d0.isRunning());
    }

    @Test
    void netNsSwitchesTheThreadAndBack() throws Exception
    {
        final Path self = Path.of("/proc/thread-self/ns/net");
        final Path before = Files.readSymbolicLink(self);
        final Path inside = NetNs.call(nsB, () ->
        {
            try
            {
                return Files.readSymbolicLink(self);
            }
            catch (final Exception ex)
            {
                throw new IllegalStateException(ex);
            }
        });

        assertNotEquals(before, inside);
        assertEquals(before, Files.readSymbolicLink(self));
        final PacketIoException missing = assertThrows(PacketIoException.class, () -> NetNs.run(net.prefix + "-none", () -> { }));
        assertEquals("network namespace '" + net.prefix + "-none': No such file or directory", missing.getMessage());
        assertEquals(before, Files.readSymbolicLink(self));
    }

    @Test
    void missingInterfaceIsNamedWithTheErrnoText()
    {
        NetNs.run(nsB, () ->
        {
            assertEquals("interface 'srv9': No such device",
                assertThrows(PacketIoException.class, () -> InterfaceInfo.lookup("srv9")).getMessage());
            assertEquals("interface 'srv9': No such device",
                assertThrows(PacketIoException.class, () -> PacketSocket.open("srv9", RingConfig.defaults())).getMessage());
            assertEquals("interface 'srv9': No such device",
                assertThrows(PacketIoException.class, () -> RawSender.open("srv9")).getMessage());
            assertEquals("interface 'a-very-long-name0': name longer than 15 bytes",
                assertThrows(PacketIoException.class, () -> InterfaceInfo.lookup("a-very-long-name0")).getMessage());
        });
    }

    @Test
    void downInterfaceIsRefused()
    {
        final PacketIoException ex = assertThrows(PacketIoException.class,
            () -> NetNs.call(nsB, () -> PacketSocket.open("d0", RingConfig.defaults())));
        assertEquals("interface 'd0' is down (set it up first)", ex.getMessage());
    }

    @Test
    void tooBigRingIsRefusedWithItsSize()
    {
        final IllegalArgumentException rx = assertThrows(IllegalArgumentException.class,
            () -> RingConfig.builder().rxBlockSize(1 << 30).rxBlockCount(4).build());
        assertEquals("RX ring of 4294967296 bytes (4 blocks of 1073741824 bytes) is too big: " +
            "one ring is at most 2147483647 bytes", rx.getMessage());

        final IllegalArgumentException tx = assertThrows(IllegalArgumentException.class,
            () -> RingConfig.builder().txBlockSize(1 << 20).txBlockCount(4096).build());
        assertTrue(tx.getMessage().startsWith("TX ring of 4294967296 bytes (4096 blocks"), tx.getMessage());

        final IllegalArgumentException frame = assertThrows(IllegalArgumentException.class,
            () -> RingConfig.builder().rxFrameSize(2050).build());
        assertEquals("RX frame size 2050: must be at least 256 and a multiple of 16", frame.getMessage());
    }

    @Test
    void withoutCapNetRawTheMessageSaysSo() throws Exception
    {
        // Capabilities are per thread: drop CAP_NET_RAW from the effective set of a throwaway thread.
        final AtomicReference<Throwable> outcome = new AtomicReference<>();
        final Thread thread = new Thread(() ->
        {
            try
            {
                NetNs.run(nsB, () ->
                {
                    Capabilities.dropEffective(Capabilities.CAP_NET_RAW);
                    outcome.set(assertThrows(PacketIoException.class, () -> PacketSocket.open("b0", RingConfig.defaults())));
                });
            }
            catch (final Throwable ex)
            {
                outcome.set(new AssertionError("unexpected", ex));
            }
        });
        thread.start();
        thread.join(WAIT_MS);
        assertFalse(thread.isAlive());

        assertInstanceOf(PacketIoException.class, outcome.get(), String.valueOf(outcome.get()));
        assertEquals("interface 'b0': AF_PACKET needs root or CAP_NET_RAW (Operation not permitted)",
            outcome.get().getMessage());
        // This thread kept its capabilities.
        NetNs.run(nsB, () -> PacketSocket.open("b0", RingConfig.defaults()).close());
    }

    @ParameterizedTest
    @EnumSource(RingConfig.Version.class)
    void receivesFramesByteExact(final RingConfig.Version version)
    {
        final int[] sizes = new int[200];
        for (int i = 0; i < sizes.length; i++)
        {
            sizes[i] = 60 + (i * 97) % 1455;
        }
        sizes[1] = 1514;
        final List<byte[]> frames = frames(MAC_B, MAC_A, sizes, 42);
        final RingConfig config = RingConfig.builder().version(version).build();

        try (PacketSocket rx = NetNs.call(nsB, () -> PacketSocket.open("b0", config));
            RawSender tx = NetNs.call(nsA, () -> RawSender.open("a0")))
        {
            long bytes = 0;
            for (final byte[] frame : frames)
            {
                assertTrue(tx.send(new UnsafeBuffer(frame), 0, frame.length), () -> "errno " + tx.lastErrno());
                bytes += frame.length;
            }

            final Collector collector = new Collector(MAC_A);
            collector.collect(rx, frames.size());

            assertEquals(frames.size(), collector.frames.size());
            for (int i = 0; i < frames.size(); i++)
            {
                assertArrayEquals(frames.get(i), collector.frames.get(i), "frame " + i);
                assertEquals(0, collector.flags.get(i) & FrameHandler.TRUNCATED);
            }
            assertTrue(rx.rxFrames() >= frames.size());
            assertTrue(rx.rxBytes() >= bytes);
            assertEquals(0, rx.rxTruncated());
        }
    }

    @Test
    void peekShowsTheNextFramesWithoutTakingThem()
    {
        final int[] sizes = new int[40];
        java.util.Arrays.fill(sizes, 100);
        final List<byte[]> frames = frames(MAC_B, MAC_A, sizes, 7);
        try (PacketSocket rx = NetNs.call(nsB, () -> PacketSocket.open("b0", RingConfig.builder().build()));
            RawSender tx = NetNs.call(nsA, () -> RawSender.open("a0")))
        {
            for (final byte[] frame : frames)
            {
                assertTrue(tx.send(new UnsafeBuffer(frame), 0, frame.length), () -> "errno " + tx.lastErrno());
            }
            final long deadline = System.currentTimeMillis() + WAIT_MS;
            final Collector peeked = new Collector(MAC_A);
            while (System.currentTimeMillis() < deadline)
            {
                peeked.frames.clear();
                rx.peek(peeked, 1000);
                if (peeked.frames.size() >= frames.size())
                {
                    break;
                }
                sleep(5);
            }
            final Collector again = new Collector(MAC_A);
            rx.peek(again, 1000);
            assertEquals(peeked.frames.size(), again.frames.size(), "peeking twice shows the same frames");

            final Collector received = new Collector(MAC_A);
            received.collect(rx, frames.size());
            assertEquals(frames.size(), received.frames.size(), "peek gave nothing back to the kernel");
            for (int i = 0; i < frames.size(); i++)
            {
                assertArrayEquals(frames.get(i), peeked.frames.get(i), "peeked frame " + i);
                assertArrayEquals(frames.get(i), received.frames.get(i), "received frame " + i);
            }
            final Collector after = new Collector(MAC_A);
            rx.peek(after, 1000);
            assertEquals(0, after.frames.size(), "received frames are gone");
        }
    }

    @Test
    void framesBiggerThanTheRingFrameAreFlaggedTruncated()
    {
        final RingConfig config = RingConfig.builder().rxFrameSize(256).rxBlockSize(4096).rxBlockCount(4).build();
        final List<byte[]> frames = frames(MAC_B, MAC_A, new int[] {100, 1000, 190, 191}, 7);

        try (PacketSocket rx = NetNs.call(nsB, () -> PacketSocket.open("b0", config));
            RawSender tx = NetNs.call(nsA, () -> RawSender.open("a0")))
        {
            // V2 puts the MAC header at TPACKET_ALIGN(52 + 16) - 14 = 66 into the frame.
            assertEquals(256 - 66, config.rxFrameCapacity());
            for (final byte[] frame : frames)
            {
                assertTrue(tx.send(new UnsafeBuffer(frame), 0, frame.length));
            }
            final Collector collector = new Collector(MAC_A);
            collector.collect(rx, frames.size());

            assertEquals(4, collector.frames.size());
            assertArrayEquals(frames.get(0), collector.frames.get(0));
            assertEquals(0, collector.flags.get(0) & FrameHandler.TRUNCATED);
            assertEquals(190, collector.frames.get(1).length);
            assertArrayEquals(java.util.Arrays.copyOf(frames.get(1), 190), collector.frames.get(1));
            assertEquals(FrameHandler.TRUNCATED, collector.flags.get(1) & FrameHandler.TRUNCATED);
            assertArrayEquals(frames.get(2), collector.frames.get(2));
            assertEquals(FrameHandler.TRUNCATED, collector.flags.get(3) & FrameHandler.TRUNCATED);
            assertEquals(2, rx.rxTruncated());
        }
    }

    @ParameterizedTest
    @EnumSource(RingConfig.Version.class)
    void transmitsABatchThroughTheTxRing(final RingConfig.Version version)
    {
        final int[] sizes = new int[300];
        for (int i = 0; i < sizes.length; i++)
        {
            sizes[i] = 60 + (i * 131) % 1455;
        }
        final List<byte[]> frames = frames(MAC_B, MAC_A, sizes, 99);
        final RingConfig config = RingConfig.builder().version(version).build();

        try (PacketSocket rx = NetNs.call(nsB, () -> PacketSocket.open("b0", config));
            PacketSocket tx = NetNs.call(nsA, () -> PacketSocket.open("a0", config)))
        {
            assertTrue(tx.txFrameCount() >= frames.size());
            long bytes = 0;
            for (final byte[] frame : frames)
            {
                assertTrue(tx.send(new UnsafeBuffer(frame), 0, frame.length));
                bytes += frame.length;
            }
            assertFalse(tx.isFlushed());
            tx.flush();

            final Collector collector = new Collector(MAC_A);
            collector.collect(rx, frames.size());

            assertEquals(frames.size(), collector.frames.size());
            for (int i = 0; i < frames.size(); i++)
            {
                assertArrayEquals(frames.get(i), collector.frames.get(i), "frame " + i);
            }
            assertEquals(frames.size(), tx.txFrames());
            assertEquals(bytes, tx.txBytes());
            assertEquals(0, tx.txRingFull());
            assertTrue(tx.isFlushed());
            awaitTxDrained(tx);
        }
    }

    @Test
    void fullTxRingRefusesAndRecovers()
    {
        final RingConfig config = RingConfig.builder().txFrameSize(2048).txBlockSize(4096).txBlockCount(1).build();
        final List<byte[]> frames = frames(MAC_B, MAC_A, new int[] {100, 200, 300, 400}, 3);

        try (PacketSocket rx = NetNs.call(nsB, () -> PacketSocket.open("b0", RingConfig.defaults()));
            PacketSocket tx = NetNs.call(nsA, () -> PacketSocket.open("a0", config)))
        {
            assertEquals(2, tx.txFrameCount());
            assertTrue(tx.send(new UnsafeBuffer(frames.get(0)), 0, 100));
            assertTrue(tx.send(new UnsafeBuffer(frames.get(1)), 0, 200));
            assertFalse(tx.send(new UnsafeBuffer(frames.get(2)), 0, 300));
            assertEquals(1, tx.txRingFull());
            assertFalse(tx.lastRefusalWasOversize(), "refused because the ring was full");
            assertEquals(2, tx.txPending());

            tx.flush();
            awaitTxDrained(tx);
            assertTrue(tx.send(new UnsafeBuffer(frames.get(3)), 0, 400));
            tx.flush();

            final byte[] tooLong = new byte[tx.txFrameCapacity() + 1];
            assertFalse(tx.send(new UnsafeBuffer(tooLong), 0, tooLong.length));
            assertEquals(1, tx.txOversize());
            assertTrue(tx.lastRefusalWasOversize(), "refused for its size");

            final Collector collector = new Collector(MAC_A);
            collector.collect(rx, 3);
            assertEquals(3, collector.frames.size());
            assertArrayEquals(frames.get(0), collector.frames.get(0));
            assertArrayEquals(frames.get(1), collector.frames.get(1));
            assertArrayEquals(frames.get(3), collector.frames.get(2));
            assertEquals(3, tx.txFrames());
        }
    }

    /**
     * Frames longer than the MTU allows are refused and counted, and the ring keeps going. With vnet
     * headers this matters most: the kernel would retry a frame the device drops forever.
     */
    @ParameterizedTest
    @CsvSource({"false", "true"})
    void framesLongerThanTheMtuAreRefusedAndTheRingKeepsGoing(final boolean vnet)
    {
        final RingConfig config = RingConfig.builder().vnetHeader(vnet)
            .txFrameSize(4096).txBlockSize(8192).txBlockCount(2).build();
        final List<byte[]> frames = frames(MAC_B, MAC_A, new int[] {1514, 1515, 1518, 1519, 100}, 13);
        for (final int tagged : new int[] {2, 3})
        {
            // dst, src, 802.1Q tag (VLAN 5), then the test EtherType.
            final byte[] frame = frames.get(tagged);
            final UnsafeBuffer buffer = new UnsafeBuffer(frame);
            buffer.putShort(12, (short)0x8100, java.nio.ByteOrder.BIG_ENDIAN);
            buffer.putShort(14, (short)5, java.nio.ByteOrder.BIG_ENDIAN);
            buffer.putShort(16, (short)ETHER_TYPE, java.nio.ByteOrder.BIG_ENDIAN);
        }

        try (PacketSocket rx = NetNs.call(nsB, () -> PacketSocket.open("b0", RingConfig.defaults()));
            PacketSocket tx = NetNs.call(nsA, () -> PacketSocket.open("a0", config)))
        {
            final boolean[] accepted = new boolean[frames.size()];
            for (int i = 0; i < frames.size(); i++)
            {
                accepted[i] = tx.send(new UnsafeBuffer(frames.get(i)), 0, frames.get(i).length);
                tx.flush();
            }
            assertArrayEquals(new boolean[] {true, false, true, false, true}, accepted);
            assertEquals(2, tx.txOversize());

            final Collector collector = new Collector(MAC_A);
            collector.collect(rx, 3);
            assertEquals(3, collector.frames.size());
            assertArrayEquals(frames.get(0), collector.frames.get(0));
            // The receiving kernel takes the VLAN tag out of the frame and reports it in the ring header.
            assertEquals(1514, collector.frames.get(1).length);
            assertEquals(FrameHandler.VLAN_VALID, collector.flags.get(1) & FrameHandler.VLAN_VALID);
            assertArrayEquals(frames.get(4), collector.frames.get(2));
            awaitTxDrained(tx);
        }
    }

    /**
     * A packet socket never gets back what it sent itself (the kernel skips the sending socket, and
     * with fanout the whole group). Frames that other senders on the same host put on the interface
     * (here a RawSender; in the appliance the kernel stack or the ARP sender) pass the interface's
     * packet taps as outgoing frames: PACKET_IGNORE_OUTGOING, or in a fanout group the fanout flag,
     * keeps them out. The qdisc is not bypassed here so that the ring's frames pass the taps too.
     */
    @ParameterizedTest
    @CsvSource({"false,true,0", "false,false,10", "true,true,0", "true,false,10"})
    void outgoingFramesAreNotReceived(final boolean fanout, final boolean ignoreOutgoing, final int expectedSeen)
    {
        final RingConfig.Builder builder = RingConfig.builder().qdiscBypass(false).ignoreOutgoing(ignoreOutgoing);
        if (fanout)
        {
            builder.fanout(7, PacketConstants.PACKET_FANOUT_HASH, 0);
        }
        final RingConfig config = builder.build();
        final int[] sizes = new int[20];
        for (int i = 0; i < sizes.length; i++)
        {
            sizes[i] = 60 + 10 * i;
        }
        final List<byte[]> frames = frames(MAC_B, MAC_A, sizes, 5);

        try (PacketSocket peer = NetNs.call(nsB, () -> PacketSocket.open("b0", RingConfig.defaults()));
            PacketSocket self = NetNs.call(nsA, () -> PacketSocket.open("a0", config));
            RawSender raw = NetNs.call(nsA, () -> RawSender.open("a0")))
        {
            for (int i = 0; i < 10; i++)
            {
                assertTrue(self.send(new UnsafeBuffer(frames.get(i)), 0, frames.get(i).length));
            }
            self.flush();
            for (int i = 10; i < 20; i++)
            {
                assertTrue(raw.send(new UnsafeBuffer(frames.get(i)), 0, frames.get(i).length));
            }

            final Collector atPeer = new Collector(MAC_A);
            atPeer.collect(peer, 20);
            assertEquals(20, atPeer.frames.size());

            final Collector atSelf = new Collector(MAC_A);
            atSelf.collect(self, 20, 300);
            assertEquals(expectedSeen, atSelf.frames.size());
            for (int i = 0; i < expectedSeen; i++)
            {
                assertArrayEquals(frames.get(10 + i), atSelf.frames.get(i));
            }
        }
    }

    @ParameterizedTest
    @EnumSource(RingConfig.Version.class)
    void kernelStatisticsCountDropsAndAccumulate(final RingConfig.Version version)
    {
        final RingConfig config = RingConfig.builder().version(version)
            .rxFrameSize(2048).rxBlockSize(version == RingConfig.Version.V3 ? 8192 : 4096).rxBlockCount(1).build();
        final int[] sizes = new int[50];
        java.util.Arrays.fill(sizes, 100);
        final List<byte[]> frames = frames(MAC_B, MAC_A, sizes, 11);

        try (PacketSocket rx = NetNs.call(nsB, () -> PacketSocket.open("b0", config));
            RawSender tx = NetNs.call(nsA, () -> RawSender.open("a0")))
        {
            for (final byte[] frame : frames)
            {
                assertTrue(tx.send(new UnsafeBuffer(frame), 0, frame.length));
            }
            sleep(50);
            rx.pollKernelStatistics();
            final long packets = rx.kernelPackets();
            final long drops = rx.kernelDrops();

            final Collector collector = new Collector(MAC_A);
            collector.collect(rx, 50, 200);
            assertTrue(packets >= 50, "packets " + packets);
            assertTrue(drops > 0, "drops " + drops);
            assertEquals(packets, collector.frames.size() + drops);

            rx.pollKernelStatistics();
            assertEquals(packets, rx.kernelPackets());
            assertEquals(drops, rx.kernelDrops());
        }
    }

    @Test
    void interfaceGoingDownIsReportedOnceAndReceptionResumesWhenUp()
    {
        final long macA1 = mac("02:00:00:00:0a:02");
        final List<byte[]> frames = frames(mac("02:00:00:00:0b:02"), macA1, new int[] {80}, 17);
        try (PacketSocket rx = NetNs.call(nsB, () -> PacketSocket.open("b1", RingConfig.defaults()));
            RawSender tx = NetNs.call(nsA, () -> RawSender.open("a1")))
        {
            net.exec(nsB, TestNetwork.IP, "link", "set", "b1", "down");
            assertFalse(rx.waitForInput(1000));
            assertEquals(1, rx.socketErrors());
            assertFalse(rx.waitForInput(10));
            assertEquals(1, rx.socketErrors());

            net.exec(nsB, TestNetwork.IP, "link", "set", "b1", "up");
            final Collector collector = new Collector(macA1);
            final long deadline = System.currentTimeMillis() + WAIT_MS;
            while (collector.frames.isEmpty() && System.currentTimeMillis() < deadline)
            {
                tx.send(new UnsafeBuffer(frames.get(0)), 0, 80);
                collector.collect(rx, 1, 100);
            }
            assertArrayEquals(frames.get(0), collector.frames.get(0));
        }
    }

    @Test
    void closeIsIdempotent()
    {
        final PacketSocket socket = NetNs.call(nsB, () -> PacketSocket.open("b0", RingConfig.defaults()));
        assertTrue(socket.fd() >= 0);
        socket.close();
        assertTrue(socket.isClosed());
        socket.close();
        assertEquals(-1, socket.fd());
    }

    static void awaitTxDrained(final PacketSocket tx)
    {
        final long deadline = System.currentTimeMillis() + WAIT_MS;
        while (tx.txPending() > 0 && System.currentTimeMillis() < deadline)
        {
            tx.flush();
            sleep(1);
        }
        assertEquals(0, tx.txPending());
    }

    static void sleep(final long ms)
    {
        try
        {
            Thread.sleep(ms);
        }
        catch (final InterruptedException ex)
        {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(ex);
        }
    }

    /** Copies out the test frames from one source MAC, with their flags. */
    static final class Collector implements FrameHandler
    {
        final long src;
        final List<byte[]> frames = new ArrayList<>();
        final List<Integer> flags = new ArrayList<>();

        Collector(final long src)
        {
            this.src = src;
        }

        @Override
        public void onFrame(final UnsafeBuffer buffer, final int offset, final int length, final int flags)
        {
            if (isTestFrame(buffer, offset, length, src))
            {
                final byte[] copy = new byte[length];
                buffer.getBytes(offset, copy);
                frames.add(copy);
                this.flags.add(flags);
            }
        }

        void collect(final PacketSocket socket, final int count)
        {
            collect(socket, count, WAIT_MS);
        }

        /** Receive until count test frames arrived or the time is up. */
        void collect(final PacketSocket socket, final int count, final long waitMs)
        {
            final long deadline = System.currentTimeMillis() + waitMs;
            while (frames.size() < count && System.currentTimeMillis() < deadline)
            {
                if (0 == socket.receive(this, 64))
                {
                    socket.waitForInput(5);
                }
            }
        }
    }

    /** capget/capset, only for the test that drops CAP_NET_RAW from one thread. */
    static final class Capabilities
    {
        static final int CAP_NET_RAW = 13;
        private static final int VERSION_3 = 0x20080522;

        public interface Lib
        {
            @SaveError
            int capget(Pointer header, Pointer data);

            @SaveError
            int capset(Pointer header, Pointer data);
        }

        private static final Lib LIB = LibraryLoader.create(Lib.class).load("c");

        static void dropEffective(final int capability)
        {
            final Native.Scratch header = new Native.Scratch(8);
            final Native.Scratch data = new Native.Scratch(24);
            header.buffer.putInt(0, VERSION_3);
            header.buffer.putInt(4, 0);
            if (LIB.capget(header.pointer, data.pointer) < 0)
            {
                throw new IllegalStateException("capget: " + Native.strerror(Native.errno()));
            }
            // data[0].effective is the low 32 capabilities.
            data.buffer.putInt(0, data.buffer.getInt(0) & ~(1 << capability));
            if (LIB.capset(header.pointer, data.pointer) < 0)
            {
                throw new IllegalStateException("capset: " + Native.strerror(Native.errno()));
            }
        }
    }
}
