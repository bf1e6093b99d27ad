"""nianbao: China's 政府信息公开工作年度报告 as a dataset people can trust."""

__version__ = "0.2.0"  # 0.2: reports gained agency_id and read_by; earlier documents are redone
