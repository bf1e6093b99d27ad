"""nianbao: China's 政府信息公开工作年度报告 as a dataset people can trust."""
__version__ = "0.1.0"
