package lb.dataplane.io;

import java.util.Random;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import static lb.dataplane.io.FanoutProgram.Side.CLIENT;
import static lb.dataplane.io.FanoutProgram.Side.SERVER;
import static lb.dataplane.io.SteeringFrames.*;
import static org.junit.jupiter.api.Assertions.*;

/**
 * The steering program's arithmetic, run by a classic-BPF interpreter with the kernel's receive
 * semantics, against the Java model {@link FanoutProgram#workerOf}; the kernel itself runs it in
 * {@code FanoutSteeringTest}.
 */
class FanoutProgramTest
{
    private static final long MAC_LB = 0x02_00_00_00_00_01L;
    private static final long MAC_PEER = 0x02_00_00_00_00_02L;
    private static final int VIP = 0xC6120064;      // 198.18.0.100
    private static final int BACKEND = 0xC612010B;  // 198.18.1.11
    private static final int ROUTER = 0xC6120002;   // 198.18.0.2

    @ParameterizedTest
    @ValueSource(ints = {1, 2, 3, 4, 7, 64})
    void programPicksTheWorkerTheModelPicksForTcpAndUdp(final int workers)
    {
        final FanoutProgram client = FanoutProgram.of(CLIENT, workers);
        final FanoutProgram server = FanoutProgram.of(SERVER, workers);
        final Random random = new Random(workers);
        final int[] seen = new int[workers];
        for (int i = 0; i < 3000; i++)
        {
            final int protocol = random.nextBoolean() ? TCP : UDP;
            final int srcIp = random.nextInt();
            final int dstIp = random.nextInt();
            final int srcPort = random.nextInt(65536);
            final int dstPort = random.nextInt(65536);
            final int ihl = 5 + (random.nextInt(4) == 0 ? random.nextInt(11) : 0);
            final boolean vlan = random.nextInt(8) == 0;
            final byte[] frame = ipv4(MAC_LB, MAC_PEER, protocol, srcIp, srcPort, dstIp, dstPort, ihl, 0x4000, vlan);

            final int expectedClient = FanoutProgram.workerOf(srcIp, srcPort, workers);
            assertEquals(expectedClient, ClassicBpf.run(client, frame), () -> "client side, frame " + describe(frame));
            assertEquals(FanoutProgram.workerOf(dstIp, dstPort, workers), ClassicBpf.run(server, frame),
                () -> "server side, frame " + describe(frame));
            seen[expectedClient]++;
        }
        for (int w = 0; w < workers; w++)
        {
            assertTrue(seen[w] > 0, "worker " + w + " got no frame of 3000");
        }
    }

    /**
     * A flow's two directions meet in one worker, and so do the ICMP errors about its packets: a
     * router's error about lb's packet to the client (client side) and a backend's about lb's
     * packet from it (server side), whatever the outer and quoted header lengths.
     */
    @ParameterizedTest
    @ValueSource(ints = {2, 3, 5, 8})
    void aFlowsForwardAndReturnFramesAndItsIcmpErrorsMeetInOneWorker(final int workers)
    {
        final FanoutProgram client = FanoutProgram.of(CLIENT, workers);
        final FanoutProgram server = FanoutProgram.of(SERVER, workers);
        final Random random = new Random(17 * workers);
        final int[] errorTypes = {3, 11, 12};
        for (int i = 0; i < 2000; i++)
        {
            final int clientIp = 0xC6120000 | random.nextInt(1 << 16);
            final int clientPort = 1024 + random.nextInt(64512);
            final int protocol = random.nextBoolean() ? TCP : UDP;
            // Forward: client -> VIP:80 on the client side; return: backend:8080 -> client on the server side.
            final byte[] forward = ipv4(MAC_LB, MAC_PEER, protocol, clientIp, clientPort, VIP, 80, 5, 0, false);
            final byte[] back = ipv4(MAC_LB, MAC_PEER, protocol, BACKEND, 8080, clientIp, clientPort, 5, 0, false);
            final int worker = ClassicBpf.run(client, forward);
            assertEquals(worker, ClassicBpf.run(server, back), "flow " + clientIp + ":" + clientPort);

            final int type = errorTypes[random.nextInt(errorTypes.length)];
            final int outerIhl = random.nextInt(4) == 0 ? 6 + random.nextInt(10) : 5;
            final int quotedIhl = random.nextInt(4) == 0 ? 6 + random.nextInt(10) : 5;
            final byte[] toClient = ipv4(MAC_PEER, MAC_LB, protocol, VIP, 80, clientIp, clientPort, quotedIhl, 0x4000, false);
            assertEquals(worker, ClassicBpf.run(client, icmpError(MAC_LB, MAC_PEER, ROUTER, VIP, type, outerIhl, toClient)),
                "client side: an error about lb's packet to " + clientIp + ":" + clientPort);
            final byte[] toBackend = ipv4(MAC_PEER, MAC_LB, protocol, clientIp, clientPort, BACKEND, 8080, quotedIhl, 0x4000,
                false);
            assertEquals(worker, ClassicBpf.run(server, icmpError(MAC_LB, MAC_PEER, BACKEND, clientIp, type, outerIhl, toBackend)),
                "server side: an error about lb's packet from " + clientIp + ":" + clientPort);
        }
    }

    @Test
    void everythingButUnfragmentedTcpUdpAndIcmpErrorsGoesToWorkerZero()
    {
        final int workers = 4;
        // A client endpoint whose TCP frames go to worker 3, so "0" below is the program's choice, not luck.
        int port = 1024;
        while (FanoutProgram.workerOf(0xC612000B, port, workers) != 3)
        {
            port++;
        }
        final int clientPort = port;
        for (final FanoutProgram.Side side : FanoutProgram.Side.values())
        {
            final FanoutProgram p = FanoutProgram.of(side, workers);
            final byte[] tcp = side == CLIENT ? tcp(MAC_LB, MAC_PEER, 0xC612000B, clientPort, VIP, 80) :
                tcp(MAC_LB, MAC_PEER, BACKEND, 80, 0xC612000B, clientPort);
            assertEquals(3, ClassicBpf.run(p, tcp), side + " control frame");

            assertEquals(0, ClassicBpf.run(p, arp(MAC_PEER, 0xC612000B, VIP)), side + " ARP");
            assertEquals(0, ClassicBpf.run(p, ipv4(MAC_LB, MAC_PEER, ICMP, 0xC612000B, clientPort, 0xC612000B, clientPort,
                5, 0, false)), side + " ICMP");
            // ICMP other than an error about a flow (echo reply, redirect, echo request), or one cut before the quoted port.
            final byte[] quoted = side == CLIENT ? ipv4(MAC_PEER, MAC_LB, TCP, VIP, 80, 0xC612000B, clientPort, 5, 0x4000, false) :
                ipv4(MAC_PEER, MAC_LB, TCP, 0xC612000B, clientPort, BACKEND, 80, 5, 0x4000, false);
            final int to = side == CLIENT ? VIP : 0xC612000B;
            assertEquals(3, ClassicBpf.run(p, icmpError(MAC_LB, MAC_PEER, ROUTER, to, 3, 5, quoted)), side + " error");
            for (final int type : new int[] {0, 5, 8})
            {
                assertEquals(0, ClassicBpf.run(p, icmpError(MAC_LB, MAC_PEER, ROUTER, to, type, 5, quoted)), side + " type " + type);
            }
            assertEquals(0, ClassicBpf.run(p, cut(icmpError(MAC_LB, MAC_PEER, ROUTER, to, 3, 5, quoted), 14 + 20 + 8 + 20 + 1)),
                side + " error cut in the quoted ports");
            assertEquals(0, ClassicBpf.run(p, ipv4(MAC_LB, MAC_PEER, GRE, 0xC612000B, clientPort, 0xC612000B, clientPort,
                5, 0, false)), side + " GRE");
            // First fragment (more-fragments set) and a later one (offset set): no ports to hash.
            assertEquals(0, ClassicBpf.run(p, ipv4(MAC_LB, MAC_PEER, TCP, 0xC612000B, clientPort, 0xC612000B, clientPort,
                5, 0x2000, false)), side + " first fragment");
            assertEquals(0, ClassicBpf.run(p, ipv4(MAC_LB, MAC_PEER, UDP, 0xC612000B, clientPort, 0xC612000B, clientPort,
                5, 0x0010, false)), side + " later fragment");
            // A frame that ends inside the IP header or before the ports: the load fails, the program returns 0.
            assertEquals(0, ClassicBpf.run(p, cut(tcp, 14 + 19)), side + " cut in the IP header");
            assertEquals(0, ClassicBpf.run(p, cut(tcp, 14 + 20 + (side == CLIENT ? 1 : 3))), side + " cut in the ports");
            // An IPv6 EtherType is not IPv4, whatever its bytes say.
            final byte[] ipv6 = tcp.clone();
            ipv6[12] = (byte)0x86;
            ipv6[13] = (byte)0xDD;
            assertEquals(0, ClassicBpf.run(p, ipv6), side + " IPv6");
        }
    }

    @ParameterizedTest
    @ValueSource(ints = {2, 3, 4, 8})
    void sequentialClientPortsSpreadEvenly(final int workers)
    {
        final FanoutProgram client = FanoutProgram.of(CLIENT, workers);
        final int[] counts = new int[workers];
        final int frames = 12_000;
        for (int port = 32768; port < 32768 + frames; port++)
        {
            counts[ClassicBpf.run(client, tcp(MAC_LB, MAC_PEER, 0xC612000B, port, VIP, 80))]++;
        }
        final double even = (double)frames / workers;
        for (int w = 0; w < workers; w++)
        {
            assertTrue(Math.abs(counts[w] - even) < 0.05 * even,
                "worker " + w + " got " + counts[w] + " of " + frames + " frames from consecutive ports; even is " + even);
        }
    }

    @Test
    void encodesSockFilterStructsThatEndInAReturn()
    {
        final FanoutProgram p = FanoutProgram.of(SERVER, 3);
        final UnsafeBuffer buffer = new UnsafeBuffer(new byte[p.length() * FanoutProgram.SOCK_FILTER_LENGTH]);
        assertEquals(buffer.capacity(), p.writeTo(buffer, 0));
        for (int i = 0; i < p.length(); i++)
        {
            final int at = i * FanoutProgram.SOCK_FILTER_LENGTH;
            assertEquals(p.code(i), buffer.getShort(at, java.nio.ByteOrder.LITTLE_ENDIAN) & 0xFFFF);
            assertEquals(p.jt(i), buffer.getByte(at + 2) & 0xFF);
            assertEquals(p.jf(i), buffer.getByte(at + 3) & 0xFF);
            assertEquals(p.k(i), buffer.getInt(at + 4, java.nio.ByteOrder.LITTLE_ENDIAN));
            if ((p.code(i) & 0x07) == FanoutProgram.BPF_JMP)
            {
                assertTrue(i + 1 + Math.max(p.jt(i), p.jf(i)) < p.length(), "jump " + i + " stays inside");
            }
        }
        assertEquals(FanoutProgram.BPF_RET, p.code(p.length() - 1) & 0x07);
        // The worker count is the modulus: the only place it appears.
        boolean modulus = false;
        for (int i = 0; i < p.length(); i++)
        {
            modulus |= p.code(i) == (FanoutProgram.BPF_ALU | FanoutProgram.BPF_MOD | FanoutProgram.BPF_K) && p.k(i) == 3;
        }
        assertTrue(modulus);
        assertThrows(IllegalArgumentException.class, () -> FanoutProgram.of(CLIENT, 0));
        assertThrows(IllegalArgumentException.class, () -> FanoutProgram.of(CLIENT, FanoutProgram.MAX_WORKERS + 1));
    }

    @Test
    void ringConfigTakesAProgramOnlyWithCbpfMode()
    {
        final FanoutProgram p = FanoutProgram.of(CLIENT, 2);
        final RingConfig ok = RingConfig.builder().fanout(5, PacketConstants.PACKET_FANOUT_CBPF, 0).fanoutProgram(p).build();
        assertSame(p, ok.fanoutProgram());
        assertThrows(IllegalArgumentException.class,
            () -> RingConfig.builder().fanout(5, PacketConstants.PACKET_FANOUT_HASH, 0).fanoutProgram(p).build());
        assertThrows(IllegalArgumentException.class,
            () -> RingConfig.builder().fanout(5, PacketConstants.PACKET_FANOUT_CBPF, 0).build());
        assertThrows(IllegalArgumentException.class, () -> RingConfig.builder().fanoutProgram(p).build());
    }

    private static String describe(final byte[] frame)
    {
        final StringBuilder s = new StringBuilder();
        for (int i = 0; i < Math.min(frame.length, 64); i++)
        {
            s.append(String.format("%02x", frame[i]));
        }
        return s.toString();
    }
}
