"""What-if: one event load under several escalation policies, the Fengqiao KPIs side by side.

``gridflow whatif`` (`gridflow.whatif.cli`) prints what differs between the policies
(`gridflow.whatif.policies`), runs the pure decision core over the same input once per policy, one process
per policy (`gridflow.whatif.offline`), prints the KPIs with their differences (`gridflow.whatif.table`) and
can write an HTML report.
"""
