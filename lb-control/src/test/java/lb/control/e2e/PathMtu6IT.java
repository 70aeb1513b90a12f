package lb.control.e2e;

import java.nio.file.Path;
import lb.control.config.Ipv6Address;
import lb.control.testbed.Testbed;
import lb.dataplane.io.FanoutProgram;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Path MTU discovery through the VIP6, the IPv6 twin of {@link PathMtuIT} on the dual-stack
 * testbed: c3 (2001:2:0:2::11) sits behind rt, whose link toward c3 has MTU 1400 while c3 keeps
 * 1500 (its SYN asks for MSS 1440), so the backend's full-size segments do not fit there. IPv6
 * routers never fragment: rt answers each with ICMPv6 packet too big (MTU 1400) to the VIP6, their
 * source. lb must relay it to the flow's backend, NAT66-translated, or the download stalls.
 *
 * <p>Both halves in one run, as in PathMtuIT: with rt's packet-too-big errors dropped on their way
 * out of rt the download stalls and the backend's route to c3 keeps no MTU; with them reaching lb it
 * completes with the right sha256, the backend's route says {@code mtu 1400}, and lb counted what
 * it relayed. Offloads on with one worker, off with two (the download's client port steered to
 * worker 1, so its errors must be steered by their quote to reach it).
 */
class PathMtu6IT
{
    static final String DROP_PACKET_TOO_BIG = "OUTPUT -p icmpv6 --icmpv6-type packet-too-big -j DROP";

    @TempDir
    Path dir;

    @ParameterizedTest(name = "offloads {0}, {1} workers")
    @CsvSource({"true, 1", "false, 2"})
    void aDownloadThroughARouterWithASmallerMtuCompletesOnceLbRelaysPacketTooBig(final boolean offloads, final int workers)
        throws Exception
    {
        final String clientIp = Testbed.clientIp6(PathMtuIT.CLIENT);
        try (Testbed testbed = Testbed.upDualStack(offloads, 1, "nat"))
        {
            PathMtuIT.stallsThenCompletes(dir, testbed, testbed.lbArgs6(), workers, clientIp,
                portOfWorker(clientIp, workers - 1, workers), Testbed.httpUrl(Testbed.VIP6, Testbed.HTTP_PORT, "/file/big.bin"),
                "ip6tables", DROP_PACKET_TOO_BIG);
        }
    }

    /** A client port from 50000 whose IPv6 flows the steering gives to {@code worker}. */
    private static int portOfWorker(final String clientIp, final int worker, final int workers)
    {
        final Ipv6Address ip = Ipv6Address.parse(clientIp);
        int port = 50_000;
        while (FanoutProgram.workerOf6(ip.high(), ip.low(), port, workers) != worker)
        {
            port++;
        }
        return port;
    }
}
