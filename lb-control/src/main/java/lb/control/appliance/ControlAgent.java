package lb.control.appliance;

import java.util.ArrayDeque;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;
import lb.control.Log;
import lb.control.config.ProbeConfig;
import lb.control.health.HealthProber;
import lb.control.health.NeighborProbes;
import lb.control.health.TcpChecker;
import lb.dataplane.io.RawSender;
import lb.dataplane.packet.FrameClassifier;
import lb.dataplane.packet.FrameType;
import lb.dataplane.packet.ParsedFrame;
import lb.dataplane.worker.Commands;
import org.agrona.DirectBuffer;
import org.agrona.concurrent.Agent;
import org.agrona.concurrent.MessageHandler;
import org.agrona.concurrent.UnsafeBuffer;
import org.agrona.concurrent.ringbuffer.RingBuffer;

/**
 * The control thread's duty cycle: read the frames the workers passed up (ARP frames, and for
 * IPv6 backends neighbour advertisements, tell which backends are alive and at which MAC; worker 0 passes them, as all ARP is steered to it; any
 * worker passes the backends' answers to TCP checks, of either family), send the ARP probes and TCP checks that are
 * due, and turn health changes into commands on every worker's ring. It never touches dataplane
 * state itself.
 */
final class ControlAgent implements Agent
{
    private final RingBuffer events;
    private final CommandRings commands;
    private final RawSender serverSender;
    private final HealthProber prober;
    private final AtomicReference<int[]> probedBackends;
    private int[] probing;
    private final TcpChecker checker;
    private final AtomicReference<List<TcpChecker.Target>> checkTargets;
    private List<TcpChecker.Target> checking;
    private final ArrayDeque<PendingCommand> undelivered = new ArrayDeque<>();
    private boolean ringFullLogged;
    private final NeighborProbes neighborProbes;
    private final UnsafeBuffer probeFrame = new UnsafeBuffer(new byte[NeighborProbes.MAX_FRAME_LENGTH]);
    private final ParsedFrame parsed = new ParsedFrame();
    private final MessageHandler eventHandler = this::onEvent;
    private long now;
    private long probeSendFailures;

    /**
     * @param events          server-side frames from the workers: ARP (worker 0) and answers to TCP checks (any)
     * @param commands        the workers' command rings
     * @param probedBackends  the addresses to probe, replaced by the runtime API when backends change
     * @param probeRtts       where each answered probe's round-trip time is recorded
     * @param checkTargets    the backends to check over TCP, replaced by the runtime API when they change
     */
    ControlAgent(final RingBuffer events, final CommandRings commands,
        final RawSender serverSender, final long serverMac, final int gatewayIp, final int gatewayIp6,
        final AtomicReference<int[]> probedBackends, final Map<Integer, ApplianceRuntime.ProbeRtt> probeRtts,
        final ProbeConfig probe,
        final AtomicReference<List<TcpChecker.Target>> checkTargets)
    {
        this.events = events;
        this.commands = commands;
        this.serverSender = serverSender;
        this.neighborProbes = new NeighborProbes(serverMac, gatewayIp, gatewayIp6);
        this.probedBackends = probedBackends;
        this.probing = probedBackends.get();
        this.prober = new HealthProber(probing, probe.interval().toNanos(), probe.timeout().toNanos(), probe.retries(),
            this::sendProbe,
            this::onHealthChange, (ip, rtt) -> ApplianceRuntime.probeRtt(probeRtts, ip).record(rtt), Log::info);
        this.checkTargets = checkTargets;
        this.checking = checkTargets.get();
        this.checker = new TcpChecker(serverMac, gatewayIp, gatewayIp6, serverSender::send, prober::macIfUp, this::onCheckChange,
            Log::info, (int)System.nanoTime());
        checker.setTargets(checking, System.nanoTime());
    }

    HealthProber prober()
    {
        return prober;
    }

    TcpChecker checker()
    {
        return checker;
    }

    @Override
    public int doWork()
    {
        now = System.nanoTime();
        final int[] wanted = probedBackends.get();
        if (wanted != probing)
        {
            probing = wanted;
            prober.setBackends(wanted, now);
        }
        final List<TcpChecker.Target> targets = checkTargets.get();
        if (targets != checking)
        {
            checking = targets;
            checker.setTargets(targets, now);
        }
        int work = deliverHealthChanges();
        work += events.read(eventHandler, 64);
        work += prober.doWork(now);
        work += checker.doWork(now);
        return work;
    }

    private void onEvent(final int msgTypeId, final DirectBuffer buffer, final int index, final int length)
    {
        if (msgTypeId != Commands.SERVER_FRAME)
        {
            return;
        }
        final FrameType type = FrameClassifier.classify(buffer, index, length, parsed);
        if (type == FrameType.IPV4_TCP || type == FrameType.IPV6_TCP)
        {
            checker.onFrame(buffer, index, length, now);
        }
        else if (NeighborProbes.isIpv6(buffer, index, length))
        {
            neighborProbes.onIpv6Frame(buffer, index, length, now, prober);
        }
        else if (type == FrameType.ARP)
        {
            prober.onArp(parsed.senderIp, parsed.senderMac, now);
        }
    }

    private void sendProbe(final int targetIp)
    {
        final int length = neighborProbes.writeProbe(probeFrame, 0, targetIp);
        if (length > 0 && !serverSender.send(probeFrame, 0, length) && probeSendFailures++ == 0)
        {
            Log.info("cannot send ARP/NDP probes on " + serverSender.interfaceInfo().name() + ": errno " + serverSender.lastErrno());
        }
    }

    /** One health change for the workers, encoded, with what a later change of the same thing replaces. */
    private record PendingCommand(int type, String subject, UnsafeBuffer message, int length)
    {
    }

    private void onHealthChange(final int ip, final boolean up, final long mac, final long rttNanos)
    {
        final UnsafeBuffer message = new UnsafeBuffer(new byte[Commands.HEALTH_LENGTH]);
        queue(new PendingCommand(Commands.BACKEND_HEALTH, "arp " + ip, message,
            Commands.encodeHealth(message, 0, ip, up, mac)));
    }

    private void onCheckChange(final TcpChecker.Target target, final boolean passing)
    {
        final UnsafeBuffer message = new UnsafeBuffer(new byte[Commands.BACKEND_LENGTH]);
        queue(new PendingCommand(Commands.BACKEND_CHECK, "check " + target.serviceId() + " " + target.ip() + " " + target.port(),
            message, Commands.encodeBackend(message, 0, target.serviceId(), target.ip(), target.poolPort(), passing ? 1 : 0)));
    }

    private void queue(final PendingCommand command)
    {
        // A later change of the same thing supersedes an undelivered earlier one.
        undelivered.removeIf(pending -> pending.subject().equals(command.subject()));
        undelivered.add(command);
        deliverHealthChanges();
    }

    /** The prober reports changes only once: keep each until the workers' rings took it. */
    private int deliverHealthChanges()
    {
        int delivered = 0;
        while (!undelivered.isEmpty())
        {
            final PendingCommand pending = undelivered.peekFirst();
            if (commands.write(pending.type(), pending.message(), 0, pending.length()) == null)
            {
                if (!ringFullLogged)
                {
                    ringFullLogged = true;
                    Log.info("command ring full: " + undelivered.size() + " health change(s) wait for room");
                }
                break;
            }
            undelivered.pollFirst();
            ringFullLogged = false;
            delivered++;
        }
        return delivered;
    }

    @Override
    public String roleName()
    {
        return "lb-control";
    }
}
